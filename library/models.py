"""The catalogue: libraries (music folders), artists, albums, tracks, genres, cover art, scans.

Sort and search keys (``sort_name``, ``search_key``) are folded text (see
``library.text``) written by whoever writes the row: the scanner in bulk, so they are
plain fields rather than ``save()`` logic.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models


class Library(models.Model):
    name = models.CharField(max_length=100, unique=True)
    root = models.CharField(max_length=1000, unique=True, help_text="absolute path of the music folder")
    enabled = models.BooleanField(default=True)
    scan_interval = models.PositiveIntegerField(default=60, help_text="minutes between scheduled scans; 0 = never")
    # The scan lease: one scan of a library at a time, across processes and machines.
    lease_holder = models.CharField(max_length=100, blank=True, default="")
    lease_expires = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "libraries"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Genre(models.Model):
    name = models.CharField(max_length=200, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CoverArt(models.Model):
    """An image stored once under ``DATA_DIR/covers``, named by its content hash."""

    sha256 = models.CharField(max_length=64, unique=True)
    mime = models.CharField(max_length=50)
    size = models.PositiveIntegerField()
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "cover art"

    def __str__(self) -> str:
        return f"{self.sha256[:12]} ({self.mime})"


class Artist(models.Model):
    name = models.CharField(max_length=500, unique=True)
    sort_name = models.CharField(max_length=500, db_index=True)
    search_key = models.CharField(max_length=500, default="")
    musicbrainz_id = models.CharField(max_length=36, blank=True, default="")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sort_name"]

    def __str__(self) -> str:
        return self.name


class Album(models.Model):
    title = models.CharField(max_length=500)
    sort_title = models.CharField(max_length=500, db_index=True)
    album_artist = models.ForeignKey(Artist, on_delete=models.PROTECT, related_name="albums")
    year = models.PositiveIntegerField(null=True, blank=True, db_index=True)
    genres = models.ManyToManyField(Genre, blank=True, related_name="albums")
    compilation = models.BooleanField(default=False)
    disc_count = models.PositiveIntegerField(default=1)
    track_count = models.PositiveIntegerField(default=0)
    duration_ms = models.PositiveBigIntegerField(default=0)
    cover = models.ForeignKey(CoverArt, null=True, blank=True, on_delete=models.SET_NULL, related_name="albums")
    musicbrainz_id = models.CharField(max_length=36, blank=True, default="")
    search_key = models.CharField(max_length=1000, default="")
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["album_artist", "title"], name="album_unique_per_artist")]
        ordering = ["sort_title"]

    def __str__(self) -> str:
        return self.title


class Track(models.Model):
    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="tracks")
    path = models.TextField(help_text="relative to the library root")
    size = models.PositiveBigIntegerField()
    mtime_ns = models.BigIntegerField()
    fingerprint = models.CharField(max_length=64, db_index=True, help_text="size + content sample hash, to follow moved files")
    format = models.CharField(max_length=10)
    codec = models.CharField(max_length=20)
    duration_ms = models.PositiveIntegerField(default=0)
    bitrate = models.PositiveIntegerField(null=True, blank=True)
    sample_rate = models.PositiveIntegerField(null=True, blank=True)
    channels = models.PositiveSmallIntegerField(null=True, blank=True)
    title = models.CharField(max_length=500)
    sort_title = models.CharField(max_length=500)
    artists = models.ManyToManyField(Artist, through="TrackArtist", related_name="tracks")
    artist_display = models.CharField(max_length=1000, default="", help_text="the artists as one line")
    album = models.ForeignKey(Album, on_delete=models.PROTECT, related_name="tracks")
    track_number = models.PositiveIntegerField(null=True, blank=True)
    track_total = models.PositiveIntegerField(null=True, blank=True)
    disc_number = models.PositiveIntegerField(null=True, blank=True)
    disc_total = models.PositiveIntegerField(null=True, blank=True)
    year = models.PositiveIntegerField(null=True, blank=True)
    genres = models.ManyToManyField(Genre, blank=True, related_name="tracks")
    musicbrainz_track_id = models.CharField(max_length=36, blank=True, default="")
    musicbrainz_album_id = models.CharField(max_length=36, blank=True, default="")
    musicbrainz_artist_id = models.CharField(max_length=36, blank=True, default="")
    replaygain_track_gain = models.FloatField(null=True, blank=True)
    replaygain_track_peak = models.FloatField(null=True, blank=True)
    replaygain_album_gain = models.FloatField(null=True, blank=True)
    replaygain_album_peak = models.FloatField(null=True, blank=True)
    lyrics = models.TextField(blank=True, default="")
    cover = models.ForeignKey(CoverArt, null=True, blank=True, on_delete=models.SET_NULL, related_name="tracks")
    search_key = models.CharField(max_length=2000, default="")
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["library", "path"], name="track_unique_path")]
        indexes = [models.Index(fields=["album", "disc_number", "track_number"])]
        ordering = ["album", "disc_number", "track_number", "title"]

    def __str__(self) -> str:
        return self.title


class TrackArtist(models.Model):
    """A track's artists, in tag order."""

    track = models.ForeignKey(Track, on_delete=models.CASCADE)
    artist = models.ForeignKey(Artist, on_delete=models.PROTECT)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["track", "artist"], name="track_artist_unique")]
        ordering = ["position"]


class ScanRun(models.Model):
    QUEUED, RUNNING, COMPLETED, FAILED, CANCELLED = "queued", "running", "completed", "failed", "cancelled"
    STATUSES = [(s, s) for s in (QUEUED, RUNNING, COMPLETED, FAILED, CANCELLED)]
    MAX_ERRORS = 1000  # per-file errors kept on a run; the count goes on

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="scans")
    trigger = models.CharField(max_length=20, help_text="schedule, manual, command, api")
    full = models.BooleanField(default=False, help_text="re-read every file, changed or not")
    status = models.CharField(max_length=10, choices=STATUSES, default=QUEUED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    files_seen = models.PositiveIntegerField(default=0)
    parsed = models.PositiveIntegerField(default=0)
    added = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    removed = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text="[{path, error}], the first MAX_ERRORS")
    message = models.TextField(blank=True, default="")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created"]
        indexes = [models.Index(fields=["library", "-created"])]

    def __str__(self) -> str:
        return f"{self.library} scan {self.pk} ({self.status})"
