"""Transcoding with ffmpeg: which binary (``binary``), which profile a request gets
(``profiles.choose``), and the shared, size-bounded cache of transcoded files with its
ffmpeg processes (``cache``). ``bridge.files.stream_track`` puts them together for REST,
Subsonic and the browser.
"""
