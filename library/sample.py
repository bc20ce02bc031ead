"""Deterministic sample music library: committed tiny templates + tags written with mutagen.

Same (count, seed, formats) -> the same tree and byte-identical files: all randomness
comes from one ``random.Random(seed)``, nothing reads the clock, and each file is built
in memory (template bytes + tags) and written once.

`dest` may already exist, even non-empty: the generator only creates files. If any
target file already exists it raises FileExistsError before writing anything.

The returned summary lists every file with the values a correct reader
(``library.tags.read_tags``) must return for it, so tests can check the reader.

``make_long_wav`` writes one big WAV (the tone template repeated) for streaming tests
and benchmarks.
"""
from __future__ import annotations

import base64
import io
import os
import random
import struct
import uuid
import wave
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable

from mutagen.asf import ASF, ASFBoolAttribute, ASFByteArrayAttribute, ASFDWordAttribute
from mutagen.flac import FLAC, Picture
from mutagen.id3 import APIC, ID3, TALB, TCMP, TCON, TDRC, TIT2, TPE1, TPE2, TPOS, TRCK, TXXX, UFID, USLT
from mutagen.mp4 import MP4, MP4Cover, MP4FreeForm
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from mutagen.aiff import AIFF
from mutagen.wave import WAVE

__all__ = [
    "SAMPLE_FORMATS", "TEMPLATE_DIR", "TEMPLATE_LENGTHS_MS", "COVER_TEMPLATES", "TAG_FIELDS",
    "SampleSummary", "SampleTrack", "make_long_wav", "make_sample_library", "template_path",
]

TEMPLATE_DIR = Path(__file__).with_name("sample_templates")
TEMPLATE_LENGTHS_MS = (1000, 1500)  # nominal signal length of the two template variants

# Generator format key -> (file extension, template name pattern). "m4a" is AAC, "alac" is ALAC;
# both are .m4a files (read_tags reports format "m4a" with codec "aac" / "alac").
SAMPLE_FORMATS: dict[str, tuple[str, str]] = {
    "mp3": ("mp3", "tone-{ms}ms.mp3"),
    "flac": ("flac", "tone-{ms}ms.flac"),
    "ogg": ("ogg", "tone-{ms}ms.ogg"),
    "opus": ("opus", "tone-{ms}ms.opus"),
    "m4a": ("m4a", "tone-{ms}ms-aac.m4a"),
    "alac": ("m4a", "tone-{ms}ms-alac.m4a"),
    "wav": ("wav", "tone-{ms}ms.wav"),
    "aiff": ("aiff", "tone-{ms}ms.aiff"),
    "wma": ("wma", "tone-{ms}ms.wma"),
}
_FORMAT_WEIGHTS = {"mp3": 30, "flac": 20, "m4a": 12, "ogg": 8, "opus": 8, "alac": 6, "wma": 6, "wav": 5, "aiff": 5}

COVER_TEMPLATES = (
    "cover-red.jpg", "cover-navy.jpg", "cover-olive.jpg", "cover-teal.jpg",
    "cover-orange.png", "cover-indigo.png", "cover-green.png", "cover-gold.png",
)
_FOLDER_NAMES = {"jpg": ("cover.jpg", "folder.jpg", "Folder.jpg", "front.jpg"), "png": ("cover.png", "folder.png")}

# TrackTags fields a SampleTrack carries the expected value of (cover: see SampleTrack.cover).
TAG_FIELDS = (
    "title", "artists", "album", "album_artists", "track_number", "track_total", "disc_number",
    "disc_total", "year", "genres", "compilation", "musicbrainz_track_id", "musicbrainz_album_id",
    "musicbrainz_artist_id", "musicbrainz_albumartist_id", "replaygain_track_gain",
    "replaygain_track_peak", "replaygain_album_gain", "replaygain_album_peak", "lyrics",
)


def template_path(sample_format: str, length_ms: int = 1000) -> Path:
    return TEMPLATE_DIR / SAMPLE_FORMATS[sample_format][1].format(ms=length_ms)


@dataclass(frozen=True)
class SampleTrack:
    """One generated file and the values read_tags must return for it (same field names)."""

    path: str  # relative to dest, "/"-separated
    sample_format: str  # key of SAMPLE_FORMATS
    template: str  # template file the audio was copied from
    duration_ms: int  # nominal length of that template (codecs add a little padding)
    tag_style: str  # id3v2.3 | id3v2.4 | id3v1 | vorbis | mp4 | asf
    title: str
    artists: tuple[str, ...]
    album: str
    album_artists: tuple[str, ...]
    track_number: int
    track_total: int | None
    disc_number: int | None
    disc_total: int | None
    year: int | None
    genres: tuple[str, ...]
    compilation: bool
    musicbrainz_track_id: str | None
    musicbrainz_album_id: str | None
    musicbrainz_artist_id: str | None
    musicbrainz_albumartist_id: str | None
    replaygain_track_gain: float | None
    replaygain_track_peak: float | None
    replaygain_album_gain: float | None
    replaygain_album_peak: float | None
    lyrics: str | None
    cover: str | None  # COVER_TEMPLATES name embedded as front cover (read_tags(...).cover.data == its bytes)
    folder_cover: str | None  # path (relative to dest) of the album folder's image, if any


@dataclass(frozen=True)
class SampleSummary:
    dest: str
    files: int
    albums: int
    artists: int  # distinct names among track artists and album artists
    formats: dict[str, int]  # per SAMPLE_FORMATS key
    embedded_covers: int  # files with an embedded cover
    folder_covers: int  # folder image files written
    tracks: tuple[SampleTrack, ...] = field(repr=False)

    def lines(self) -> list[str]:
        fmts = ", ".join(f"{k}={v}" for k, v in sorted(self.formats.items()))
        return [
            f"Wrote {self.files} audio files to {self.dest}",
            f"  albums: {self.albums}, artists: {self.artists}",
            f"  formats: {fmts}",
            f"  embedded covers: {self.embedded_covers}, folder images: {self.folder_covers}",
        ]


# --------------------------------------------------------------------------- vocabulary

_ADJ = ["Silent", "Electric", "Golden", "Broken", "Hidden", "Velvet", "Crimson", "Distant", "Frozen", "Wild",
        "Neon", "Paper", "Hollow", "Lucky", "Midnight", "Glass", "Restless", "Lonely", "Northern", "Secret",
        "Solar", "Quiet", "Burning", "Wandering"]
_NOUN = ["River", "Garden", "Machine", "Echo", "Harbor", "Mirror", "Forest", "Signal", "Orchard", "Lantern",
         "Tide", "Engine", "Meadow", "Comet", "Canyon", "Parade", "Atlas", "Window", "Circus", "Harvest",
         "Island", "Shadow", "Thunder", "Monsoon"]
_FOREIGN = ["Café", "Señorita", "Naïve", "Über", "Fjörd", "Crème", "Façade", "Jalapeño", "Smörgåsbord",
            "Déjà Vu", "Ærø", "Łódź", "Straße", "夜明け", "東京", "Мечта", "Зима", "Ελπίδα", "Θάλασσα",
            "سماء", "서울", "Ümlaut"]
_FIRST = ["Anna", "Marco", "Yuki", "Olga", "Pedro", "Chloé", "Søren", "Aiko", "Dmitri", "Zoë", "Nils", "Inés",
          "Ravi", "Mei", "Jonas", "Léa"]
_LAST = ["Park", "Novak", "Tanaka", "Ivanova", "Silva", "Dubois", "Larsen", "Kowalski", "Moreau", "Okafor",
         "Jensen", "Müller", "Nakamura", "García", "Öberg", "Petrov"]
_SPECIAL_ARTISTS = ["Björk-like", "Sigur Rós-like", "坂本", "Мумий Тролль-like", "Motörhead-ish", "AC/DC-like",
                    "Café Tacvba-like", "Zoë & the Señoritas", "Ελευθερία"]
# Mostly ID3v1 genres; the last two are not in the ID3v1 list (so ID3v1-only files drop them).
_GENRES = ["Rock", "Pop", "Jazz", "Classical", "Electronic", "Ambient", "Folk", "Hip-Hop", "Metal", "Blues",
           "Soundtrack", "Reggae", "Techno", "Country", "Indie", "Post-Rock", "Shoegaze", "Trip-Hop",
           "Drum & Bass", "Chanson", "Soul", "Funk", "Synthpop", "J-Pop", "Música Popular"]
_VARIOUS = "Various Artists"


# --------------------------------------------------------------------------- planning

@dataclass
class _Artist:
    name: str
    mbid: str
    albums: int = 0


@dataclass
class _Plan:
    """A track as intended, plus how to write it. `track` holds the full-fidelity expectation."""

    track: SampleTrack
    rel_dir: str
    date: str | None
    write_album_artist: bool
    write_compilation_flag: bool
    totals_slash: bool  # Vorbis: "3/12" in TRACKNUMBER rather than TRACKTOTAL
    back_cover: str | None  # extra non-front picture written before the front one
    variant: int  # per-format running index, picks sub-styles deterministically


class _Namer:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.specials = list(_SPECIAL_ARTISTS)
        rng.shuffle(self.specials)
        self.used: set[str] = {_VARIOUS}

    def _phrase(self) -> str:
        r, c = self.rng, self.rng.choice
        kind = r.randrange(7)
        if kind == 0:
            return f"{c(_ADJ)} {c(_NOUN)}"
        if kind == 1:
            return c(_NOUN)
        if kind == 2:
            return f"The {c(_NOUN)}"
        if kind == 3:
            return c(_FOREIGN)
        if kind == 4:
            return f"{c(_NOUN)} of the {c(_NOUN)}"
        if kind == 5:
            return f"{c(_ADJ)} {c(_FOREIGN)}"
        return f"{c(_FOREIGN)} {c(_NOUN)}"

    def artist(self) -> str:
        r, c = self.rng, self.rng.choice
        if self.specials and r.random() < 0.5:
            name = self.specials.pop()
        else:
            for _ in range(20):
                kind = r.randrange(4)
                if kind == 0:
                    name = f"The {c(_ADJ)} {c(_NOUN)}s"
                elif kind == 1:
                    name = f"{c(_FIRST)} {c(_LAST)}"
                elif kind == 2:
                    name = f"{c(_ADJ)} {c(_NOUN)}"
                else:
                    name = f"{c(_FOREIGN)} {c(_NOUN)}"
                if name not in self.used:
                    break
            n = 2
            base = name
            while name in self.used:
                name, n = f"{base} {n}", n + 1
        self.used.add(name)
        return name

    def title(self) -> str:
        return self._phrase()

    def lyrics(self) -> str:
        words = _ADJ + _NOUN + _FOREIGN
        lines = []
        for _ in range(self.rng.randint(2, 4)):
            lines.append(" ".join(self.rng.choice(words).lower() for _ in range(self.rng.randint(3, 6))))
        return "\n".join(lines)


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _safe(name: str) -> str:
    """A path component: no separators or characters Windows/Samba would reject."""
    out = "".join("_" if ch in '/\\:*?"<>|' or ord(ch) < 32 else ch for ch in name)
    return out.strip(" .") or "_"


def _plan(rng: random.Random, count: int, formats: list[str]) -> tuple[list[_Plan], dict[str, str]]:
    """All randomness happens here, in a fixed order. Returns plans + folder images {rel path: template}."""
    namer = _Namer(rng)
    artists: list[_Artist] = []
    weights = [_FORMAT_WEIGHTS[f] for f in formats]
    plans: list[_Plan] = []
    folder_images: dict[str, str] = {}
    variants: Counter[str] = Counter()
    album_dirs: set[str] = set()

    def new_artist() -> _Artist:
        a = _Artist(namer.artist(), _uuid(rng))
        artists.append(a)
        return a

    while len(plans) < count:
        compilation = len(artists) >= 3 and rng.random() < 0.08
        if compilation:
            main = None
        elif artists and rng.random() < 0.45:
            candidates = [a for a in artists if a.albums < 4] or artists
            main = rng.choice(candidates)
        else:
            main = new_artist()
        if main:
            main.albums += 1
        album_artist = _VARIOUS if compilation else main.name  # type: ignore[union-attr]

        album = namer.title()
        year = rng.randint(1962, 2024)
        date = str(year) if rng.random() < 0.6 else f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        rel_album = f"{_safe(album_artist)}/{_safe(album)} ({year})"
        while rel_album in album_dirs:
            album += " II"
            rel_album = f"{_safe(album_artist)}/{_safe(album)} ({year})"
        album_dirs.add(rel_album)

        n_tracks = min(rng.randint(8, 14), count - len(plans))
        r = rng.random()
        discs = 3 if r < 0.03 and n_tracks >= 9 else 2 if r < 0.11 and n_tracks >= 4 else 1
        disc_folders = rng.random() < 0.5  # "Disc 1/01 - x" vs "1-01 - x"
        album_format = rng.choices(formats, weights)[0]
        mixed_formats = rng.random() < 0.1
        genres = tuple(rng.sample(_GENRES, 2 if rng.random() < 0.2 else 1))
        write_totals = rng.random() < 0.8
        write_single_disc = rng.random() < 0.5
        write_album_artist = compilation or rng.random() < 0.85
        write_compilation_flag = compilation and rng.random() < 0.7
        totals_slash = rng.random() < 0.4
        has_mb = rng.random() < 0.4
        album_mbid = _uuid(rng) if has_mb else None
        albumartist_mbid = (main.mbid if main else "89ad4ac3-39f7-470e-963a-56509c546377") if has_mb else None
        has_rg = rng.random() < 0.3
        album_gain = round(rng.uniform(-12, 2), 2) if has_rg else None
        album_peak = round(rng.uniform(0.5, 1.0), 6) if has_rg else None
        cover_mode = rng.choices(["embedded", "folder", "both", "none"], [35, 30, 10, 25])[0]
        cover = rng.choice(COVER_TEMPLATES)
        back_cover = rng.choice([c for c in COVER_TEMPLATES if c != cover]) if rng.random() < 0.25 else None
        folder_cover = None
        if cover_mode in ("folder", "both"):
            folder_cover = f"{rel_album}/{rng.choice(_FOLDER_NAMES[cover.rsplit('.', 1)[1]])}"
            folder_images[folder_cover] = cover
        embedded = cover if cover_mode in ("embedded", "both") else None

        per_disc = [n_tracks // discs + (1 if i < n_tracks % discs else 0) for i in range(discs)]
        for disc_index, disc_tracks in enumerate(per_disc, start=1):
            for number in range(1, disc_tracks + 1):
                fmt = rng.choices(formats, weights)[0] if mixed_formats else album_format
                if compilation:
                    guest = rng.choice(artists) if rng.random() < 0.6 else new_artist()
                    track_artists = [guest.name]
                    artist_mbid = guest.mbid
                else:
                    track_artists = [main.name]  # type: ignore[union-attr]
                    artist_mbid = main.mbid  # type: ignore[union-attr]
                if rng.random() < 0.12:
                    feat = new_artist() if len(artists) < 2 or rng.random() < 0.3 else rng.choice(artists)
                    if feat.name not in track_artists:
                        track_artists.append(feat.name)
                title = namer.title()
                length = rng.choice(TEMPLATE_LENGTHS_MS)
                lyrics = namer.lyrics() if rng.random() < 0.1 else None
                track_gain = round(rng.uniform(-14, 3), 2) if has_rg else None
                track_peak = round(rng.uniform(0.3, 1.0), 6) if has_rg else None
                track_mbid = _uuid(rng) if has_mb else None

                ext, pattern = SAMPLE_FORMATS[fmt]
                stem = f"{number:02d} - {_safe(title)}"
                rel_dir = rel_album
                if discs > 1:
                    if disc_folders:
                        rel_dir = f"{rel_album}/Disc {disc_index}"
                    else:
                        stem = f"{disc_index}-{stem}"
                show_disc = discs > 1 or write_single_disc
                plans.append(_Plan(
                    track=SampleTrack(
                        path=f"{rel_dir}/{stem}.{ext}",
                        sample_format=fmt,
                        template=pattern.format(ms=length),
                        duration_ms=length,
                        tag_style="",
                        title=title,
                        artists=tuple(track_artists),
                        album=album,
                        album_artists=(album_artist,) if write_album_artist else (track_artists[0],),
                        track_number=number,
                        track_total=disc_tracks if write_totals else None,
                        disc_number=disc_index if show_disc else None,
                        disc_total=discs if show_disc else None,
                        year=year,
                        genres=genres,
                        compilation=compilation,
                        musicbrainz_track_id=track_mbid,
                        musicbrainz_album_id=album_mbid,
                        musicbrainz_artist_id=artist_mbid if has_mb else None,
                        musicbrainz_albumartist_id=albumartist_mbid,
                        replaygain_track_gain=track_gain,
                        replaygain_track_peak=track_peak,
                        replaygain_album_gain=album_gain,
                        replaygain_album_peak=album_peak,
                        lyrics=lyrics,
                        cover=embedded,
                        folder_cover=folder_cover,
                    ),
                    rel_dir=rel_dir,
                    date=date,
                    write_album_artist=write_album_artist,
                    write_compilation_flag=write_compilation_flag,
                    totals_slash=totals_slash,
                    back_cover=back_cover if embedded else None,
                    variant=variants[fmt],
                ))
                variants[fmt] += 1
    return plans, folder_images


# --------------------------------------------------------------------------- tag writers

def _gain(value: float) -> str:
    return f"{value:.2f} dB"


def _peak(value: float) -> str:
    return f"{value:.6f}"


def _mime(image_name: str) -> str:
    return "image/png" if image_name.endswith(".png") else "image/jpeg"


def _pictures(p: _Plan) -> list[tuple[int, str]]:
    """(picture type, template name) in writing order: optional back cover (4) first, then front (3)."""
    t = p.track
    if not t.cover:
        return []
    return ([(4, p.back_cover)] if p.back_cover else []) + [(3, t.cover)]


def _id3_tags(p: _Plan, images: dict[str, bytes]) -> ID3:
    t = p.track
    tags = ID3()
    tags.add(TIT2(encoding=3, text=t.title))
    tags.add(TPE1(encoding=3, text=list(t.artists)))
    tags.add(TALB(encoding=3, text=t.album))
    if p.write_album_artist:
        tags.add(TPE2(encoding=3, text=list(t.album_artists)))
    tags.add(TRCK(encoding=3, text=f"{t.track_number}/{t.track_total}" if t.track_total else str(t.track_number)))
    if t.disc_number:
        tags.add(TPOS(encoding=3, text=f"{t.disc_number}/{t.disc_total}"))
    if p.date:
        tags.add(TDRC(encoding=3, text=p.date))
    tags.add(TCON(encoding=3, text=list(t.genres)))
    if p.write_compilation_flag:
        tags.add(TCMP(encoding=3, text="1"))
    if t.musicbrainz_track_id:
        tags.add(UFID(owner="http://musicbrainz.org", data=t.musicbrainz_track_id.encode()))
        for desc, value in (("MusicBrainz Album Id", t.musicbrainz_album_id),
                            ("MusicBrainz Artist Id", t.musicbrainz_artist_id),
                            ("MusicBrainz Album Artist Id", t.musicbrainz_albumartist_id)):
            tags.add(TXXX(encoding=3, desc=desc, text=value))
    if t.replaygain_track_gain is not None:
        lower = p.variant % 3 == 1  # foobar2000 writes lowercase descriptions
        for desc, value in (("REPLAYGAIN_TRACK_GAIN", _gain(t.replaygain_track_gain)),
                            ("REPLAYGAIN_TRACK_PEAK", _peak(t.replaygain_track_peak)),  # type: ignore[arg-type]
                            ("REPLAYGAIN_ALBUM_GAIN", _gain(t.replaygain_album_gain)),  # type: ignore[arg-type]
                            ("REPLAYGAIN_ALBUM_PEAK", _peak(t.replaygain_album_peak))):  # type: ignore[arg-type]
            tags.add(TXXX(encoding=3, desc=desc.lower() if lower else desc, text=value))
    if t.lyrics:
        tags.add(USLT(encoding=3, lang="eng", desc="", text=t.lyrics))
    for ptype, name in _pictures(p):
        tags.add(APIC(encoding=3, mime=_mime(name), type=ptype, desc="back" if ptype == 4 else "", data=images[name]))
    return tags


def _id3_version(p: _Plan) -> tuple[int, str | None]:
    """(ID3v2 version, v2.3 multi-value separator): alternate v2.4 / v2.3; v2.3 alternates
    NUL-separated values (what most taggers write) and "; " (which read_tags also splits)."""
    if p.variant % 2 == 0:
        return 4, None
    return 3, None if p.variant % 4 == 1 else "; "


def _id3v1(p: _Plan) -> tuple[bytes, SampleTrack]:
    """A 128-byte ID3v1.1 tag, and the (reduced) values it can carry."""
    t = p.track

    def field_(text: str, size: int) -> tuple[bytes, str]:
        raw = text.encode("latin-1", "replace")[:size]
        return raw.ljust(size, b"\x00"), raw.decode("latin-1").strip()

    title_b, title = field_(t.title, 30)
    artist_b, artist = field_(t.artists[0], 30)
    album_b, album = field_(t.album, 30)
    year_b = f"{t.year:04d}".encode() if t.year else b"\x00" * 4
    genre = t.genres[0] if t.genres else ""
    genre_index = TCON.GENRES.index(genre) if genre in TCON.GENRES[:255] else 255
    tag = (b"TAG" + title_b + artist_b + album_b + year_b + b"\x00" * 28 + b"\x00"
           + bytes([min(t.track_number, 255), genre_index]))
    expected = replace(
        t, title=title, artists=(artist,), album=album, album_artists=(artist,), track_total=None,
        disc_number=None, disc_total=None, genres=(genre,) if genre_index != 255 else (), compilation=False,
        musicbrainz_track_id=None, musicbrainz_album_id=None, musicbrainz_artist_id=None,
        musicbrainz_albumartist_id=None, replaygain_track_gain=None, replaygain_track_peak=None,
        replaygain_album_gain=None, replaygain_album_peak=None, lyrics=None, cover=None,
    )
    return tag, expected


def _vorbis_comments(p: _Plan, opus: bool) -> tuple[list[tuple[str, str]], SampleTrack]:
    t = p.track
    c: list[tuple[str, str]] = [("TITLE", t.title)]
    c += [("ARTIST", a) for a in t.artists]
    c.append(("ALBUM", t.album))
    if p.write_album_artist:
        c += [("ALBUMARTIST", a) for a in t.album_artists]
    if t.track_total and p.totals_slash:
        c.append(("TRACKNUMBER", f"{t.track_number}/{t.track_total}"))
    else:
        c.append(("TRACKNUMBER", str(t.track_number)))
        if t.track_total:
            c.append(("TRACKTOTAL", str(t.track_total)))
    if t.disc_number:
        c += [("DISCNUMBER", str(t.disc_number)), ("DISCTOTAL", str(t.disc_total))]
    if p.date:
        c.append(("DATE", p.date))
    c += [("GENRE", g) for g in t.genres]
    if p.write_compilation_flag:
        c.append(("COMPILATION", "1"))
    if t.musicbrainz_track_id:
        c += [("MUSICBRAINZ_TRACKID", t.musicbrainz_track_id),
              ("MUSICBRAINZ_ALBUMID", t.musicbrainz_album_id or ""),
              ("MUSICBRAINZ_ARTISTID", t.musicbrainz_artist_id or ""),
              ("MUSICBRAINZ_ALBUMARTISTID", t.musicbrainz_albumartist_id or "")]
    expected = t
    if t.replaygain_track_gain is not None:
        if opus and p.variant % 2:
            # Opus-native R128 gains (Q7.8, relative to -23 LUFS); they carry no peaks.
            c += [("R128_TRACK_GAIN", str(round((t.replaygain_track_gain - 5) * 256))),
                  ("R128_ALBUM_GAIN", str(round((t.replaygain_album_gain - 5) * 256)))]  # type: ignore[operator]
            expected = replace(t, replaygain_track_peak=None, replaygain_album_peak=None)
        else:
            c += [("REPLAYGAIN_TRACK_GAIN", _gain(t.replaygain_track_gain)),
                  ("REPLAYGAIN_TRACK_PEAK", _peak(t.replaygain_track_peak)),  # type: ignore[arg-type]
                  ("REPLAYGAIN_ALBUM_GAIN", _gain(t.replaygain_album_gain)),  # type: ignore[arg-type]
                  ("REPLAYGAIN_ALBUM_PEAK", _peak(t.replaygain_album_peak))]  # type: ignore[arg-type]
    if t.lyrics:
        c.append(("LYRICS" if p.variant % 2 else "UNSYNCEDLYRICS", t.lyrics))
    return c, expected


def _flac_picture(ptype: int, name: str, images: dict[str, bytes]) -> Picture:
    pic = Picture()
    pic.type = ptype
    pic.mime = _mime(name)
    pic.width, pic.height, pic.depth = 32, 32, 24  # all cover templates are 32x32 RGB
    pic.data = images[name]
    return pic


def _write_flac(p: _Plan, buf: io.BytesIO, images: dict[str, bytes]) -> SampleTrack:
    f = FLAC(buf)
    if f.tags is None:
        f.add_tags()
    comments, expected = _vorbis_comments(p, opus=False)
    f.tags.clear()  # type: ignore[union-attr]
    f.tags.extend(comments)  # type: ignore[union-attr]
    for ptype, name in _pictures(p):
        f.add_picture(_flac_picture(ptype, name, images))
    buf.seek(0)
    f.save(buf)
    return expected


def _write_ogg(p: _Plan, buf: io.BytesIO, images: dict[str, bytes], opus: bool) -> SampleTrack:
    f = OggOpus(buf) if opus else OggVorbis(buf)
    comments, expected = _vorbis_comments(p, opus=opus)
    for ptype, name in _pictures(p):
        block = _flac_picture(ptype, name, images).write()
        comments.append(("METADATA_BLOCK_PICTURE", base64.b64encode(block).decode("ascii")))
    f.tags.clear()  # type: ignore[union-attr]
    f.tags.extend(comments)  # type: ignore[union-attr]
    buf.seek(0)
    f.save(buf)
    return expected


def _write_mp4(p: _Plan, buf: io.BytesIO, images: dict[str, bytes]) -> SampleTrack:
    t = p.track
    f = MP4(buf)
    if f.tags is None:
        f.add_tags()
    tags = f.tags
    tags["\xa9nam"] = [t.title]
    tags["\xa9ART"] = list(t.artists)
    tags["\xa9alb"] = [t.album]
    if p.write_album_artist:
        tags["aART"] = list(t.album_artists)
    tags["trkn"] = [(t.track_number, t.track_total or 0)]
    if t.disc_number:
        tags["disk"] = [(t.disc_number, t.disc_total or 0)]
    if p.date:
        tags["\xa9day"] = [p.date]
    tags["\xa9gen"] = list(t.genres)
    if p.write_compilation_flag:
        tags["cpil"] = True
    if t.lyrics:
        tags["\xa9lyr"] = [t.lyrics]
    free = "----:com.apple.iTunes:"
    if t.musicbrainz_track_id:
        for name, value in (("MusicBrainz Track Id", t.musicbrainz_track_id),
                            ("MusicBrainz Album Id", t.musicbrainz_album_id),
                            ("MusicBrainz Artist Id", t.musicbrainz_artist_id),
                            ("MusicBrainz Album Artist Id", t.musicbrainz_albumartist_id)):
            tags[free + name] = [MP4FreeForm(value.encode())]  # type: ignore[union-attr]
    if t.replaygain_track_gain is not None:
        for name, value in (("replaygain_track_gain", _gain(t.replaygain_track_gain)),
                            ("replaygain_track_peak", _peak(t.replaygain_track_peak)),  # type: ignore[arg-type]
                            ("replaygain_album_gain", _gain(t.replaygain_album_gain)),  # type: ignore[arg-type]
                            ("replaygain_album_peak", _peak(t.replaygain_album_peak))):  # type: ignore[arg-type]
            tags[free + name] = [MP4FreeForm(value.encode())]
    if t.cover:  # MP4 pictures have no type: write only the front cover
        fmt = MP4Cover.FORMAT_PNG if t.cover.endswith(".png") else MP4Cover.FORMAT_JPEG
        tags["covr"] = [MP4Cover(images[t.cover], imageformat=fmt)]
    buf.seek(0)
    f.save(buf)
    return t


def _asf_picture(ptype: int, name: str, images: dict[str, bytes]) -> bytes:
    data = images[name]
    return (struct.pack("<BI", ptype, len(data)) + _mime(name).encode("utf-16-le") + b"\x00\x00"
            + b"\x00\x00" + data)  # empty description


def _write_asf(p: _Plan, buf: io.BytesIO, images: dict[str, bytes]) -> SampleTrack:
    t = p.track
    f = ASF(buf)
    tags = f.tags
    tags["Title"] = [t.title]
    tags["Author"] = list(t.artists)
    tags["WM/AlbumTitle"] = [t.album]
    if p.write_album_artist:
        tags["WM/AlbumArtist"] = list(t.album_artists)
    tags["WM/TrackNumber"] = [ASFDWordAttribute(t.track_number)]
    if t.disc_number:
        tags["WM/PartOfSet"] = [f"{t.disc_number}/{t.disc_total}"]
    if t.year:
        tags["WM/Year"] = [str(t.year)]
    tags["WM/Genre"] = list(t.genres)
    if p.write_compilation_flag:
        tags["WM/IsCompilation"] = [ASFBoolAttribute(True)]
    if t.lyrics:
        tags["WM/Lyrics"] = [t.lyrics]
    if t.musicbrainz_track_id:
        for name, value in (("MusicBrainz/Track Id", t.musicbrainz_track_id),
                            ("MusicBrainz/Album Id", t.musicbrainz_album_id),
                            ("MusicBrainz/Artist Id", t.musicbrainz_artist_id),
                            ("MusicBrainz/Album Artist Id", t.musicbrainz_albumartist_id)):
            tags[name] = [value]
    if t.replaygain_track_gain is not None:
        for name, value in (("REPLAYGAIN_TRACK_GAIN", _gain(t.replaygain_track_gain)),
                            ("REPLAYGAIN_TRACK_PEAK", _peak(t.replaygain_track_peak)),  # type: ignore[arg-type]
                            ("REPLAYGAIN_ALBUM_GAIN", _gain(t.replaygain_album_gain)),  # type: ignore[arg-type]
                            ("REPLAYGAIN_ALBUM_PEAK", _peak(t.replaygain_album_peak))):  # type: ignore[arg-type]
            tags[name] = [value]
    pictures = _pictures(p)
    if pictures:
        tags["WM/Picture"] = [ASFByteArrayAttribute(_asf_picture(pt, n, images)) for pt, n in pictures]
    buf.seek(0)
    f.save(buf)
    return replace(t, track_total=None)  # Picard and most taggers keep no track total in ASF


def _render(p: _Plan, templates: dict[str, bytes], images: dict[str, bytes]) -> tuple[bytes, SampleTrack]:
    """The complete file bytes and the values read_tags must return."""
    buf = io.BytesIO(templates[p.track.template])
    fmt = p.track.sample_format
    if fmt == "mp3" and p.variant % 16 == 7:  # a few ID3v1-only files
        tag, expected = _id3v1(p)
        return buf.getvalue() + tag, replace(expected, tag_style="id3v1")
    if fmt in ("mp3", "wav", "aiff"):
        version, sep = _id3_version(p)
        tags = _id3_tags(p, images)
        if version == 3:
            tags.update_to_v23()
        if fmt == "mp3":
            buf.seek(0)
            tags.save(buf, v1=0, v2_version=version, v23_sep=sep)
        else:  # WAV/AIFF keep ID3 in an "id3 "/"ID3 " chunk
            f = WAVE(buf) if fmt == "wav" else AIFF(buf)
            f.add_tags()
            for frame in tags.values():
                f.tags.add(frame)  # type: ignore[union-attr]
            buf.seek(0)
            f.save(buf, v2_version=version, v23_sep=sep)
        return buf.getvalue(), replace(p.track, tag_style=f"id3v2.{version}")
    if fmt == "flac":
        expected = _write_flac(p, buf, images)
        style = "vorbis"
    elif fmt in ("ogg", "opus"):
        expected = _write_ogg(p, buf, images, opus=fmt == "opus")
        style = "vorbis"
    elif fmt in ("m4a", "alac"):
        expected = _write_mp4(p, buf, images)
        style = "mp4"
    else:
        expected = _write_asf(p, buf, images)
        style = "asf"
    return buf.getvalue(), replace(expected, tag_style=style)


# --------------------------------------------------------------------------- entry point

def _check_formats(formats: Iterable[str] | None) -> list[str]:
    if formats is None:
        return list(SAMPLE_FORMATS)
    chosen = []
    for f in formats:
        f = f.strip().lower()
        if f not in SAMPLE_FORMATS:
            raise ValueError(f"unknown sample format {f!r}; choose from {', '.join(SAMPLE_FORMATS)}")
        if f not in chosen:
            chosen.append(f)
    if not chosen:
        raise ValueError("no formats given")
    return [f for f in SAMPLE_FORMATS if f in chosen]  # canonical order: same library for any spelling


def make_sample_library(dest: str | os.PathLike[str], count: int, seed: int, *,
                        formats: Iterable[str] | None = None) -> SampleSummary:
    """Write `count` tagged audio files under `dest` (see the module docstring for the rules).

    `formats`: SAMPLE_FORMATS keys to use (default all), e.g. ["mp3", "flac"].
    """
    if count < 0:
        raise ValueError("count must be >= 0")
    dest = Path(dest)
    rng = random.Random(seed)
    plans, folder_images = _plan(rng, count, _check_formats(formats))

    targets = [dest / p.track.path for p in plans] + [dest / rel for rel in folder_images]
    for target in targets:
        if os.path.lexists(target):
            raise FileExistsError(f"{target} already exists; the sample generator only creates files")

    templates = {p.track.template: b"" for p in plans}
    for name in templates:
        templates[name] = (TEMPLATE_DIR / name).read_bytes()
    images = {name: (TEMPLATE_DIR / name).read_bytes() for name in COVER_TEMPLATES}

    made_dirs: set[str] = set()
    tracks: list[SampleTrack] = []
    for p in plans:
        if p.rel_dir not in made_dirs:
            (dest / p.rel_dir).mkdir(parents=True, exist_ok=True)
            made_dirs.add(p.rel_dir)
        data, expected = _render(p, templates, images)
        with open(dest / p.track.path, "xb") as fh:
            fh.write(data)
        tracks.append(expected)
    for rel, name in folder_images.items():
        with open(dest / rel, "xb") as fh:
            fh.write(images[name])

    names = {a for t in tracks for a in (*t.artists, *t.album_artists)}
    return SampleSummary(
        dest=str(dest),
        files=len(tracks),
        albums=len({t.path.split("/")[0] + "/" + t.path.split("/")[1] for t in tracks}),
        artists=len(names),
        formats=dict(sorted(Counter(t.sample_format for t in tracks).items())),
        embedded_covers=sum(1 for t in tracks if t.cover),
        folder_covers=len(folder_images),
        tracks=tuple(tracks),
    )


def make_long_wav(dest: str | os.PathLike[str], size_bytes: int) -> Path:
    """A WAV of at least ``size_bytes`` (the 1.5 s tone template repeated), written a block at
    a time; a valid file the scanner accepts. Raises FileExistsError like the library maker."""
    dest = Path(dest)
    if os.path.lexists(dest):
        raise FileExistsError(f"{dest} already exists; the sample generator only creates files")
    dest.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(TEMPLATE_DIR / "tone-1500ms.wav"), "rb") as template:
        params = template.getparams()
        frames = template.readframes(params.nframes)
    block = frames * max(1, (1 << 20) // len(frames))
    with open(dest, "xb") as raw, wave.open(raw, "wb") as out:
        out.setparams(params)
        written = 0
        while written < size_bytes:
            out.writeframes(block)
            written += len(block)
    return dest
