"""Read technical info and tags from one audio file with mutagen.

Every format's tags are first flattened into one neutral form (canonical key ->
list of strings, plus picture candidates) and then parsed by one shared builder,
so number/date/ReplayGain parsing and the fallbacks behave the same everywhere.

Multi-valued fields (artists, album artists, genres) come from separate values
(ID3 NUL-separated text, repeated Vorbis/ASF fields, MP4 lists) and are also split
on ";". They are never split on "/" (think "AC/DC").
"""
from __future__ import annotations

import base64
import binascii
import math
import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import mutagen
from mutagen.asf import ASFTags
from mutagen.flac import Picture
from mutagen.id3 import ID3
from mutagen.mp4 import MP4Cover, MP4Tags

from .files import open_regular

__all__ = ["EmbeddedCover", "TrackTags", "UnreadableFile", "find_folder_cover", "read_tags"]


class UnreadableFile(Exception):
    """The file is not audio mutagen can parse (empty, truncated, corrupt, unknown)."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = os.fspath(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


@dataclass(frozen=True)
class EmbeddedCover:
    data: bytes
    mime: str  # sniffed from the bytes when recognisable, else as declared in the tag


@dataclass(frozen=True)
class TrackTags:
    format: str  # container: mp3 flac ogg opus m4a wav aiff wma (others: see _FORMATS)
    codec: str  # mp3 flac vorbis opus aac alac pcm wmav1 wmav2 wmapro wmalossless ...
    duration_ms: int
    bitrate: int | None  # bits per second
    sample_rate: int | None  # Hz; Opus always reports 48000 (its decode rate)
    channels: int | None
    title: str  # falls back to the file name stem
    artists: tuple[str, ...]
    album: str | None
    album_artists: tuple[str, ...]  # falls back to (first track artist,)
    track_number: int | None
    track_total: int | None
    disc_number: int | None
    disc_total: int | None
    year: int | None
    genres: tuple[str, ...]
    compilation: bool  # explicit flag, or an album artist "Various Artists"
    musicbrainz_track_id: str | None  # the recording id (Picard's "MusicBrainz Track Id")
    musicbrainz_album_id: str | None
    musicbrainz_artist_id: str | None  # first value if several
    musicbrainz_albumartist_id: str | None  # first value if several
    replaygain_track_gain: float | None  # dB
    replaygain_track_peak: float | None  # linear, 1.0 = full scale
    replaygain_album_gain: float | None
    replaygain_album_peak: float | None
    lyrics: str | None
    cover: EmbeddedCover | None


# --------------------------------------------------------------------------- reading

_FORMATS = {
    "MP3": "mp3", "FLAC": "flac", "OggVorbis": "ogg", "OggOpus": "opus", "MP4": "m4a",
    "WAVE": "wav", "AIFF": "aiff", "ASF": "wma", "OggFLAC": "ogg", "OggSpeex": "spx",
    "MonkeysAudio": "ape", "WavPack": "wv", "Musepack": "mpc", "TrueAudio": "tta",
    "OptimFROG": "ofr", "DSF": "dsf", "DSDIFF": "dff", "AAC": "aac", "AC3": "ac3", "TAK": "tak",
}
_CODECS = {  # formats whose codec is implied by the container
    "FLAC": "flac", "OggVorbis": "vorbis", "OggOpus": "opus", "OggFLAC": "flac",
    "OggSpeex": "speex", "AIFF": "pcm", "MonkeysAudio": "ape", "WavPack": "wavpack",
    "Musepack": "musepack", "TrueAudio": "tta", "OptimFROG": "ofr", "DSF": "dsd",
    "DSDIFF": "dsd", "AAC": "aac", "AC3": "ac3", "TAK": "tak",
}


def read_tags(path: str | os.PathLike[str]) -> TrackTags:
    """Read one file (opened once). Raises UnreadableFile for anything that isn't parseable audio."""
    try:
        with open_regular(path) as handle:  # never a named pipe or device
            audio = mutagen.File(handle)
    except OSError as e:
        raise UnreadableFile(path, f"cannot read file: {e.strerror or e}") from e
    except Exception as e:  # noqa: BLE001 - mutagen leaks struct/Value/Index errors on corrupt input
        raise UnreadableFile(path, "empty file" if _is_empty(path) else f"{type(e).__name__}: {e}") from e
    if audio is None:
        raise UnreadableFile(path, "empty file" if _is_empty(path) else "not a recognised audio format")
    info = getattr(audio, "info", None)
    if info is None:
        raise UnreadableFile(path, "no audio stream information")

    kind = type(audio).__name__
    raw: dict[str, list[str]] = {}
    pictures: list[_Pic] = []
    tags = audio.tags
    if tags is not None:
        if isinstance(tags, ID3):
            _from_id3(tags, raw, pictures)
        elif isinstance(tags, MP4Tags):
            _from_mp4(tags, raw, pictures)
        elif isinstance(tags, ASFTags):
            _from_asf(tags, raw, pictures)
        else:  # Vorbis comments, APEv2 and other key/value tags
            _from_keyvalue(tags, raw, pictures)
    for pic in getattr(audio, "pictures", ()):  # FLAC picture blocks
        pictures.append(_Pic(pic.type, pic.mime, pic.data))
    return _build(path, kind, info, raw, pictures)


def _is_empty(path: str | os.PathLike[str]) -> bool:
    try:
        return os.path.getsize(path) == 0
    except OSError:
        return False


@dataclass(frozen=True)
class _Pic:
    type: int | None  # APIC/FLAC picture type, 3 = front cover; None if the format has none
    mime: str
    data: bytes


def _add(raw: dict[str, list[str]], key: str, values: Iterable[Any]) -> None:
    out = raw.setdefault(key, [])
    for v in values:
        s = _to_str(v)
        if s is not None:
            out.append(s)


def _to_str(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, (bytes, bytearray)):
        v = bytes(v).decode("utf-8", "replace")
    elif not isinstance(v, str):
        v = str(v)
    v = v.replace("\x00", " ").strip()
    return v or None


# Canonical keys for Vorbis comments, APEv2, ASF attributes, ID3 TXXX descriptions and
# MP4 freeform names, all compared lowercased.
_KEYMAP = {
    "title": "title", "artist": "artist", "author": "artist", "artists": "artists",
    "wm/artists": "artists", "album": "album", "wm/albumtitle": "album",
    "albumartist": "albumartist", "album artist": "albumartist", "album_artist": "albumartist",
    "wm/albumartist": "albumartist",
    "tracknumber": "tracknumber", "track": "tracknumber", "wm/tracknumber": "tracknumber",
    "tracktotal": "tracktotal", "totaltracks": "tracktotal", "wm/tracktotal": "tracktotal",
    "discnumber": "discnumber", "disc": "discnumber", "wm/partofset": "discnumber",
    "disctotal": "disctotal", "totaldiscs": "disctotal", "wm/disctotal": "disctotal",
    "date": "date", "year": "date", "wm/year": "date",
    "originaldate": "originaldate", "originalyear": "originaldate", "wm/originalreleaseyear": "originaldate",
    "genre": "genre", "wm/genre": "genre",
    "compilation": "compilation", "wm/iscompilation": "compilation",
    "musicbrainz_trackid": "mb_track", "musicbrainz track id": "mb_track", "musicbrainz/track id": "mb_track",
    "musicbrainz_albumid": "mb_album", "musicbrainz album id": "mb_album", "musicbrainz/album id": "mb_album",
    "musicbrainz_artistid": "mb_artist", "musicbrainz artist id": "mb_artist",
    "musicbrainz/artist id": "mb_artist",
    "musicbrainz_albumartistid": "mb_albumartist", "musicbrainz album artist id": "mb_albumartist",
    "musicbrainz/album artist id": "mb_albumartist",
    "replaygain_track_gain": "rg_track_gain", "replaygain_track_peak": "rg_track_peak",
    "replaygain_album_gain": "rg_album_gain", "replaygain_album_peak": "rg_album_peak",
    "r128_track_gain": "r128_track_gain", "r128_album_gain": "r128_album_gain",
    "lyrics": "lyrics", "unsyncedlyrics": "lyrics", "unsynced lyrics": "lyrics", "wm/lyrics": "lyrics",
}

_ID3_TEXT = {
    "TIT2": "title", "TPE1": "artist", "TALB": "album", "TPE2": "albumartist",
    "TRCK": "tracknumber", "TPOS": "discnumber", "TDRC": "date", "TYER": "date",
    "TDOR": "originaldate", "TORY": "originaldate", "TCMP": "compilation",
}


def _from_id3(tags: Any, raw: dict[str, list[str]], pictures: list[_Pic]) -> None:
    rva2: dict[str, tuple[float, float]] = {}
    for frame in tags.values():
        fid = frame.FrameID
        try:
            if fid in _ID3_TEXT:
                _add(raw, _ID3_TEXT[fid], frame.text)
            elif fid == "TCON":
                _add(raw, "genre", frame.genres)
            elif fid == "TXXX":
                key = _KEYMAP.get(str(frame.desc).strip().lower())
                if key:
                    _add(raw, key, frame.text)
            elif fid == "UFID":
                if frame.owner == "http://musicbrainz.org":
                    _add(raw, "mb_track", [frame.data])
            elif fid == "USLT":
                _add(raw, "lyrics", [frame.text])
            elif fid == "APIC":
                if frame.mime != "-->":  # "-->" means the data is a URL
                    pictures.append(_Pic(int(frame.type), str(frame.mime), bytes(frame.data)))
            elif fid == "RVA2" and frame.channel == 1:  # master volume
                rva2[str(frame.desc).strip().lower()] = (frame.gain, frame.peak)
        except (AttributeError, TypeError, ValueError):
            continue  # a malformed frame must not hide the others
    for scope in ("track", "album"):  # RVA2 only when no TXXX ReplayGain
        if scope in rva2 and f"rg_{scope}_gain" not in raw:
            gain, peak = rva2[scope]
            raw[f"rg_{scope}_gain"] = [repr(gain)]
            if peak:
                raw[f"rg_{scope}_peak"] = [repr(peak)]


_MP4_TEXT = {
    "\xa9nam": "title", "\xa9ART": "artist", "\xa9alb": "album", "aART": "albumartist",
    "\xa9day": "date", "\xa9gen": "genre", "\xa9lyr": "lyrics", "cpil": "compilation",
}
_FREEFORM = "----:com.apple.iTunes:"


def _from_mp4(tags: Any, raw: dict[str, list[str]], pictures: list[_Pic]) -> None:
    for key, values in tags.items():
        try:
            if not isinstance(values, list):
                values = [values]
            if key in _MP4_TEXT:
                _add(raw, _MP4_TEXT[key], values)
            elif key in ("trkn", "disk"):
                number, total = values[0]
                prefix = "track" if key == "trkn" else "disc"
                _add(raw, f"{prefix}number", [number])
                if total:
                    _add(raw, f"{prefix}total", [total])
            elif key == "covr":
                for cover in values:
                    mime = "image/png" if getattr(cover, "imageformat", None) == MP4Cover.FORMAT_PNG else "image/jpeg"
                    pictures.append(_Pic(None, mime, bytes(cover)))
            elif key.startswith(_FREEFORM):
                canon = _KEYMAP.get(key[len(_FREEFORM):].strip().lower())
                if canon:
                    _add(raw, canon, values)
        except (TypeError, ValueError, IndexError):
            continue


def _from_asf(tags: Any, raw: dict[str, list[str]], pictures: list[_Pic]) -> None:
    for name, attr in tags:
        value = getattr(attr, "value", attr)
        lname = str(name).strip().lower()
        if lname == "wm/picture":
            pic = _parse_asf_picture(value) if isinstance(value, bytes) else None
            if pic:
                pictures.append(pic)
        elif lname == "wm/track":  # legacy zero-based; used only without WM/TrackNumber
            try:
                _add(raw, "wm_track0", [int(str(value).strip()) + 1])
            except ValueError:
                pass
        else:
            canon = _KEYMAP.get(lname)
            if canon:
                _add(raw, canon, [value])


def _parse_asf_picture(data: bytes) -> _Pic | None:
    """WM/Picture: type:u8, size:u32le, mime UTF-16LE NUL-terminated, description likewise, data."""
    try:
        ptype, size = struct.unpack_from("<BI", data, 0)
        pos = 5
        strings = []
        for _ in range(2):
            end = pos
            while data[end:end + 2] != b"\x00\x00":
                end += 2
                if end >= len(data):
                    return None
            strings.append(data[pos:end].decode("utf-16-le", "replace"))
            pos = end + 2
        image = data[pos:pos + size]
        return _Pic(ptype, strings[0], image) if image else None
    except struct.error:
        return None


def _from_keyvalue(tags: Any, raw: dict[str, list[str]], pictures: list[_Pic]) -> None:
    """Vorbis comments ([(key, value), ...]) and APEv2-like mappings."""
    items = tags.items() if hasattr(tags, "keys") and not isinstance(tags, list) else tags
    for key, value in items:
        lkey = str(key).strip().lower()
        if lkey == "metadata_block_picture":
            pic = _parse_flac_picture_b64(value)
            if pic:
                pictures.append(pic)
            continue
        if lkey.startswith("cover art (") and hasattr(value, "value"):  # APEv2 binary cover
            name, _, image = bytes(value.value).partition(b"\x00")
            if image:
                pictures.append(_Pic(3 if "front" in lkey else 0, "", image))
            continue
        canon = _KEYMAP.get(lkey)
        if not canon:
            continue
        if hasattr(value, "value") and not isinstance(value, str):  # APEv2 value objects
            values: list[Any] = list(value) if hasattr(value, "__iter__") else [value.value]
        else:
            values = value if isinstance(value, list) else [value]
        _add(raw, canon, values)


def _parse_flac_picture_b64(value: Any) -> _Pic | None:
    try:
        pic = Picture(base64.b64decode(str(value), validate=False))
    except (binascii.Error, ValueError, mutagen.MutagenError, struct.error, IndexError):
        return None
    return _Pic(pic.type, pic.mime, pic.data) if pic.data else None


# --------------------------------------------------------------------------- building

_SPLIT_SEMICOLON = re.compile(r"\s*;\s*")
_NUMBER_PAIR = re.compile(r"^\s*(\d+)\s*(?:(?:/|of)\s*(\d+))?")
_MAX_NUMBER = 9999  # larger track/disc numbers are garbage
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_FLOAT = re.compile(r"[-+]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][-+]?\d+)?")


def _build(path: str | os.PathLike[str], kind: str, info: Any, raw: dict[str, list[str]],
           pictures: list[_Pic]) -> TrackTags:
    def first(key: str) -> str | None:
        values = raw.get(key)
        return values[0] if values else None

    artists = _multi(raw.get("artists") or raw.get("artist"))
    album_artists = _multi(raw.get("albumartist"))
    compilation = _truthy(first("compilation")) or any(a.lower() == "various artists" for a in album_artists)
    if not album_artists and artists:
        album_artists = (artists[0],)

    track_number, track_total = _number_pair(first("tracknumber") or first("wm_track0"))
    disc_number, disc_total = _number_pair(first("discnumber"))
    track_total = _number_pair(first("tracktotal"))[0] or track_total
    disc_total = _number_pair(first("disctotal"))[0] or disc_total

    track_gain = _float(first("rg_track_gain"))
    album_gain = _float(first("rg_album_gain"))
    if track_gain is None:  # Opus R128 gains: Q7.8 dB relative to -23 LUFS (ReplayGain is -18)
        track_gain = _r128(first("r128_track_gain"))
    if album_gain is None:
        album_gain = _r128(first("r128_album_gain"))

    return TrackTags(
        format=_FORMATS.get(kind, kind.lower()),
        codec=_codec(kind, info),
        duration_ms=_duration_ms(info),
        bitrate=_positive_int(getattr(info, "bitrate", None)),
        sample_rate=48000 if kind == "OggOpus" else _positive_int(getattr(info, "sample_rate", None)),
        channels=_positive_int(getattr(info, "channels", None)),
        title=first("title") or Path(path).stem,
        artists=artists,
        album=first("album"),
        album_artists=album_artists,
        track_number=track_number,
        track_total=track_total,
        disc_number=disc_number,
        disc_total=disc_total,
        year=_year(first("date")) or _year(first("originaldate")),
        genres=_multi(raw.get("genre")),
        compilation=compilation,
        musicbrainz_track_id=first("mb_track"),
        musicbrainz_album_id=first("mb_album"),
        musicbrainz_artist_id=_first_of_multi(first("mb_artist")),
        musicbrainz_albumartist_id=_first_of_multi(first("mb_albumartist")),
        replaygain_track_gain=track_gain,
        replaygain_track_peak=_float(first("rg_track_peak")),
        replaygain_album_gain=album_gain,
        replaygain_album_peak=_float(first("rg_album_peak")),
        lyrics=first("lyrics"),
        cover=_pick_cover(pictures),
    )


def _multi(values: list[str] | None) -> tuple[str, ...]:
    """Split on ";" too, drop empties and exact duplicates, keep order."""
    out: list[str] = []
    for value in values or ():
        for part in _SPLIT_SEMICOLON.split(value):
            part = part.strip()
            if part and part not in out:
                out.append(part)
    return tuple(out)


def _first_of_multi(value: str | None) -> str | None:
    values = _multi([value]) if value else ()
    return values[0] if values else None


def _number_pair(value: str | None) -> tuple[int | None, int | None]:
    """"3/12" -> (3, 12); "3" -> (3, None); zero and garbage -> None."""
    if not value:
        return None, None
    m = _NUMBER_PAIR.match(value)
    if not m:
        return None, None
    number, total = int(m.group(1)), int(m.group(2) or 0)
    return (number if 0 < number <= _MAX_NUMBER else None), (total if 0 < total <= _MAX_NUMBER else None)


def _year(value: str | None) -> int | None:
    if not value:
        return None
    m = _YEAR.search(value)
    if not m:
        return None
    year = int(m.group(1))
    return year if 1000 <= year <= 9999 else None


def _float(value: str | None) -> float | None:
    """"-6.50 dB" -> -6.5; also accepts a decimal comma. NaN/inf/garbage -> None."""
    if not value:
        return None
    m = _FLOAT.search(value)
    if not m:
        return None
    try:
        number = float(m.group(0).replace(",", "."))
    except ValueError:
        return None
    return number if math.isfinite(number) and abs(number) < 1000 else None


def _r128(value: str | None) -> float | None:
    if not value:
        return None
    try:
        q78 = int(value.strip())
    except ValueError:
        return None
    return round(q78 / 256 + 5, 2) if -32768 <= q78 <= 32767 else None


def _truthy(value: str | None) -> bool:
    return bool(value) and value.strip().lower() in ("1", "true", "yes", "y")


def _positive_int(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if number > 0 else None


def _duration_ms(info: Any) -> int:
    length = getattr(info, "length", None)
    try:
        length = float(length)
    except (TypeError, ValueError):
        return 0
    return round(length * 1000) if math.isfinite(length) and length > 0 else 0


_MP4_CODECS = {"alac": "alac", "ac-3": "ac3", "ec-3": "eac3", "mp4a.69": "mp3", "mp4a.6B": "mp3"}
_WAV_CODECS = {1: "pcm", 3: "pcm", 0xFFFE: "pcm", 0x55: "mp3", 2: "adpcm", 0x11: "adpcm", 6: "alaw", 7: "mulaw"}


def _codec(kind: str, info: Any) -> str:
    if kind in _CODECS:
        return _CODECS[kind]
    if kind == "MP3":
        layer = getattr(info, "layer", 3)
        return f"mp{layer}"
    if kind == "MP4":
        codec = str(getattr(info, "codec", "") or "")
        if codec.startswith("mp4a.40"):
            return "aac"
        return _MP4_CODECS.get(codec, codec or "unknown")
    if kind == "WAVE":
        return _WAV_CODECS.get(getattr(info, "audio_format", 1), "unknown")
    if kind == "ASF":
        name = str(getattr(info, "codec_type", "") or "")
        for needle, codec in (("Lossless", "wmalossless"), ("Professional", "wmapro"), ("Voice", "wmavoice"),
                              ("9 Standard", "wmav2"), ("Windows Media Audio Standard", "wmav1")):
            if needle in name:
                return codec
        return "wma"
    return kind.lower()


def image_type(data: bytes) -> str | None:
    """The image MIME type from its first bytes (JPEG, PNG, GIF, WebP, BMP), or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:2] == b"BM":
        return "image/bmp"
    return None


def _pick_cover(pictures: list[_Pic]) -> EmbeddedCover | None:
    """The first front cover (type 3), else the first picture."""
    candidates = [p for p in pictures if p.data]
    if not candidates:
        return None
    chosen = next((p for p in candidates if p.type == 3), candidates[0])
    mime = image_type(chosen.data)
    if mime is None:
        declared = chosen.mime.strip().lower()
        legacy = {"jpg": "image/jpeg", "png": "image/png"}  # ID3v2.2 PIC image formats
        mime = legacy.get(declared) or (declared if declared.startswith("image/") else "application/octet-stream")
    return EmbeddedCover(data=chosen.data, mime=mime)


# --------------------------------------------------------------------------- folder art

_COVER_STEMS = ("cover", "folder", "front", "album")
_COVER_EXTS = (".jpg", ".jpeg", ".png")


def find_folder_cover(directory: str, names: list[str]) -> str | None:
    """Pick the folder image among `names` (file names in `directory`); no file system access.

    Priority: stem cover > folder > front > album > the directory's own name (e.g.
    "Album (2004).jpg"), then extension .jpg > .jpeg > .png; case-insensitive. Returns
    the name exactly as given in `names`, or None.
    """
    stems = list(_COVER_STEMS)
    dir_stem = os.path.basename(os.path.normpath(directory)).lower() if directory else ""
    if dir_stem and dir_stem not in stems:
        stems.append(dir_stem)
    best: tuple[int, int, str] | None = None
    for name in names:
        stem, ext = os.path.splitext(name.lower())
        if stem in stems and ext in _COVER_EXTS:
            rank = (stems.index(stem), _COVER_EXTS.index(ext), name)
            if best is None or rank < best:
                best = rank
    return best[2] if best else None
