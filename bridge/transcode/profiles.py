"""Transcoding profiles and the one rule that picks a profile, or the original file.

A profile is a codec at a bitrate (``opus-128``). Opus is written in Ogg, MP3 as plain MP3
frames, AAC as ADTS rather than fragmented MP4: ADTS plays in Chromium from the first byte
(fragmented MP4 from a pipe needs a header written first and has no index), and its frames
each carry a sync header, so a byte range starting anywhere in a finished entry decodes,
which is how a browser seeks in it. All three are constant bitrate (Opus with ``-vbr off``)
so an entry's length is known in advance (Subsonic's ``estimateContentLength``) and a byte
offset maps to a time. The output sample rate is fixed (48 kHz for Opus, 44.1 kHz for the
others), so a low-rate source (an 8 kHz voice memo) still gets the bitrate asked for.
"""
from __future__ import annotations

from dataclasses import dataclass

from common.errors import InvalidPayload


@dataclass(frozen=True)
class Codec:
    name: str
    mime: str
    extension: str
    bitrates: tuple[int, ...]  # kbit/s, ascending
    default: int  # kbit/s when no maximum is asked for
    args: tuple[str, ...]  # ffmpeg output options before -b:a
    sources: tuple[str, ...]  # source codecs that already are this format
    overhead: float  # container bytes over the bitrate's (Ogg pages, ADTS headers), a little over


CODECS: dict[str, Codec] = {
    "opus": Codec("opus", "audio/ogg", "opus", (64, 96, 128, 192, 256), 192,
                  ("-c:a", "libopus", "-vbr", "off", "-ar", "48000", "-f", "ogg"), ("opus",), 1.02),
    "mp3": Codec("mp3", "audio/mpeg", "mp3", (96, 128, 192, 256, 320), 320,
                 ("-c:a", "libmp3lame", "-ar", "44100", "-f", "mp3"), ("mp3",), 1.01),
    "aac": Codec("aac", "audio/aac", "aac", (96, 128, 192, 256), 256,
                 ("-c:a", "aac", "-ar", "44100", "-f", "adts"), ("aac",), 1.03),
}
ALIASES = {"ogg": "opus", "m4a": "aac", "adts": "aac"}
RAW = "raw"
DEFAULT_CODEC = "mp3"  # a maximum bitrate without a format: the format every player decodes


@dataclass(frozen=True)
class Profile:
    codec: Codec
    bitrate: int  # kbit/s

    @property
    def name(self) -> str:
        return f"{self.codec.name}-{self.bitrate}"

    @property
    def mime(self) -> str:
        return self.codec.mime

    def estimated_bytes(self, duration_ms: int) -> int:
        """The length of ``duration_ms`` of this profile, rounded up a little (see ``overhead``)."""
        return int(duration_ms * self.bitrate / 8 * self.codec.overhead) + 4096

    def ffmpeg_output(self) -> list[str]:
        return [*self.codec.args, "-b:a", f"{self.bitrate}k"]


def profile(name: str) -> Profile:
    """The profile called ``opus-128``; ``InvalidPayload`` for another name."""
    codec, _, bitrate = name.partition("-")
    if codec in CODECS and bitrate.isdigit() and int(bitrate) in CODECS[codec].bitrates:
        return Profile(CODECS[codec], int(bitrate))
    raise InvalidPayload(f"No transcoding profile {name!r}.")


PROFILES: tuple[Profile, ...] = tuple(Profile(codec, rate) for codec in CODECS.values() for rate in codec.bitrates)


def codec_named(value: str | None, *, strict: bool) -> str | None:
    """``raw``, a codec name (or alias), or None for none asked; an unknown name is an error
    when ``strict``, otherwise ignored (Subsonic apps send names of their own)."""
    value = (value or "").strip().lower()
    if not value:
        return None
    if value == RAW:
        return RAW
    value = ALIASES.get(value, value)
    if value in CODECS:
        return value
    if strict:
        raise InvalidPayload(f"Unknown format {value!r}: use raw, {', '.join(CODECS)}.")
    return None


def _rate_at_most(codec: Codec, limit_kbps: int) -> int:
    """The codec's highest bitrate within ``limit_kbps`` (its lowest when none is)."""
    fitting = [rate for rate in codec.bitrates if rate <= limit_kbps]
    return fitting[-1] if fitting else codec.bitrates[0]


def choose(source_format: str, source_codec: str, source_bps: int | None, *, format: str | None = None,
           max_kbps: int | None = None, accept: frozenset[str] | None = None) -> Profile | None:
    """The profile to send a file as, or None for the original.

    ``format``: ``raw`` (always the original), a codec name, or None. ``max_kbps``: the
    highest bitrate the client wants (None or 0: any). ``accept``: the file formats the client
    plays as they are (None: any, or with a ``format``, only that codec). The original is sent
    when the client plays it as it is and it is within the bitrate. Otherwise the file is
    transcoded to the codec asked for (else ``DEFAULT_CODEC``) at the highest bitrate within
    the maximum and the source's own bitrate (no upsizing).
    """
    if format == RAW:
        return None
    source_kbps = round(source_bps / 1000) if source_bps else None
    within = not max_kbps or (source_kbps is not None and source_kbps <= max_kbps)
    codec = CODECS[format or DEFAULT_CODEC]
    if accept is not None:
        as_is = source_format in accept
    else:
        as_is = format is None or source_codec in codec.sources
    if as_is and within:
        return None
    limit = max_kbps or codec.default
    if source_kbps and source_codec in _LOSSY:
        limit = min(limit, max(source_kbps, codec.bitrates[0]))
    chosen = Profile(codec, _rate_at_most(codec, limit))
    if source_codec in codec.sources and source_kbps is not None and source_kbps <= chosen.bitrate:
        return None  # already this codec at no more than this bitrate: nothing to gain
    return chosen


_LOSSY = {"mp3", "vorbis", "opus", "aac", "wmav1", "wmav2", "wmapro", "wmavoice"}
