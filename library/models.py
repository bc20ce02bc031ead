"""The catalogue: libraries (music folders), artists, albums, tracks, genres, cover art, scans.

A disabled library is hidden: ``Track.objects.playable()`` and ``Album.objects.playable()``
are the tracks and albums users may see, find and play (every interface reads through
them; the raw search queries use the same SQL, ``hidden_track_ids``/``hidden_album_ids``).
An album is hidden when every track it has is in a disabled library. Disabling keeps the
rows, so enabling the library again shows them again without a scan.

Sort and search keys (``sort_name``, ``search_key``) are folded text (see
``library.text``) written by whoever writes the row: the scanner in bulk, so they are
plain fields rather than ``save()`` logic.
"""
from __future__ import annotations

from django.conf import settings
from django.core.validators import URLValidator
from django.db import connections, models
from django.db.models.expressions import RawSQL


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
        # The name ordering with its tie-break, so a deep page is an index-only scan.
        indexes = [models.Index(fields=["sort_name", "id"], name="artist_sort_name_id")]

    def __str__(self) -> str:
        return self.name


class AlbumQuerySet(models.QuerySet):
    def playable(self, any_disabled: bool | None = None) -> "AlbumQuerySet":
        """All albums but those whose every track is in a disabled library (``any_disabled``:
        ``any_library_disabled()`` when the caller has just asked it)."""
        if not (any_library_disabled(self.db) if any_disabled is None else any_disabled):
            return self
        return self.exclude(pk__in=RawSQL(hidden_album_ids(), ()))


class TrackQuerySet(models.QuerySet):
    def playable(self, any_disabled: bool | None = None) -> "TrackQuerySet":
        """The tracks of enabled libraries (``any_disabled`` as for albums)."""
        if not (any_library_disabled(self.db) if any_disabled is None else any_disabled):
            return self
        return self.exclude(pk__in=RawSQL(hidden_track_ids(), ()))


def any_library_disabled(using: str = "default") -> bool:
    """Whether any library is disabled, asked when a query is built. Usually none is, and then
    nothing is hidden and the query leaves the filter out: even empty, it made an album page
    0.9 ms slower at 100,000 tracks on SQLite (``bench api``), where this costs a few
    microseconds (the table holds a handful of rows)."""
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT 1 FROM library_library WHERE NOT enabled LIMIT 1")
        return cursor.fetchone() is not None


# Both subqueries start from the libraries (``CROSS JOIN`` keeps SQLite to that order) and
# read tracks only for a disabled library: with none disabled they are empty at once. (Joined
# the other way, SQLite read every track first: 2.5 ms more for an album page at 100,000
# tracks.) Each is run once per query that uses it, not once per row.


def hidden_track_ids() -> str:
    """SQL for the ids of the tracks of disabled libraries."""
    return ("SELECT t.id FROM library_library l CROSS JOIN library_track t "
            "WHERE t.library_id = l.id AND NOT l.enabled")


def hidden_album_ids() -> str:
    """SQL for the ids of the albums whose tracks are all in disabled libraries."""
    return ("SELECT t.album_id FROM library_library l CROSS JOIN library_track t "
            "WHERE t.library_id = l.id AND NOT l.enabled AND NOT EXISTS ("
            "SELECT 1 FROM library_track e JOIN library_library el ON el.id = e.library_id "
            "WHERE e.album_id = t.album_id AND el.enabled)")


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

    objects = AlbumQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["album_artist", "title"], name="album_unique_per_artist")]
        ordering = ["sort_title"]
        indexes = [models.Index(fields=["sort_title", "id"], name="album_sort_title_id")]

    def __str__(self) -> str:
        return self.title


class Track(models.Model):
    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="tracks")
    path = models.TextField(help_text="relative to the library root")
    size = models.PositiveBigIntegerField()
    mtime_ns = models.BigIntegerField()
    fingerprint = models.CharField(max_length=64, db_index=True, help_text="size + hash of the audio properties and tags, to follow moved files")
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
    updated = models.DateTimeField(auto_now=True, db_index=True)  # incremental sync: tracks changed since

    objects = TrackQuerySet.as_manager()

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


# -- per-user data: playlists, favourites, ratings, plays, bookmarks ---------------------------
#
# Written and read through ``library.userdata`` only. Everything that points at a track
# cascades with it (the scanner keeps track ids stable across moves, so a deleted track is a
# file that is really gone).


class Playlist(models.Model):
    MAX_ENTRIES = 10_000

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="playlists")
    name = models.CharField(max_length=500)
    comment = models.TextField(blank=True, default="")
    public = models.BooleanField(default=False, help_text="visible (read-only) to every user")
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["owner", "name"]), models.Index(fields=["public", "name"])]

    def __str__(self) -> str:
        return self.name


class PlaylistEntry(models.Model):
    """A track at a place in a playlist. ``position`` only orders the entries: gaps are
    allowed (a deleted track's entry goes with it); the index a user sees is the rank."""

    playlist = models.ForeignKey(Playlist, on_delete=models.CASCADE, related_name="entries")
    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="playlist_entries")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["playlist", "position"]
        constraints = [models.UniqueConstraint(fields=["playlist", "position"], name="playlist_entry_unique_position")]

    def __str__(self) -> str:
        return f"{self.playlist_id}#{self.position}: {self.track_id}"


class UserMark(models.Model):
    """Something a user marked on a track, an album or an artist: exactly the foreign key
    named by ``kind`` is set, so the mark goes when its object does."""

    TRACK, ALBUM, ARTIST = "track", "album", "artist"
    KINDS = [(k, k) for k in (TRACK, ALBUM, ARTIST)]

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="%(class)ss")
    kind = models.CharField(max_length=10, choices=KINDS)
    track = models.ForeignKey(Track, null=True, blank=True, on_delete=models.CASCADE, related_name="%(class)ss")
    album = models.ForeignKey(Album, null=True, blank=True, on_delete=models.CASCADE, related_name="%(class)ss")
    artist = models.ForeignKey(Artist, null=True, blank=True, on_delete=models.CASCADE, related_name="%(class)ss")

    class Meta:
        abstract = True

    @staticmethod
    def one_target(prefix: str) -> list[models.BaseConstraint]:
        """Constraints for a concrete subclass: one object per (user, object), the kind's key set."""
        matches = models.Q()
        for kind in ("track", "album", "artist"):
            others = {f"{other}__isnull": True for other in ("track", "album", "artist") if other != kind}
            matches |= models.Q(kind=kind, **{f"{kind}__isnull": False}, **others)
        return [
            models.CheckConstraint(condition=matches, name=f"{prefix}_kind_matches_target"),
            models.UniqueConstraint(fields=["user", "track"], name=f"{prefix}_unique_track"),
            models.UniqueConstraint(fields=["user", "album"], name=f"{prefix}_unique_album"),
            models.UniqueConstraint(fields=["user", "artist"], name=f"{prefix}_unique_artist"),
        ]

    @property
    def object_id(self) -> int:
        return getattr(self, f"{self.kind}_id")


class Favourite(UserMark):
    """A star."""

    starred_at = models.DateTimeField()

    class Meta:
        constraints = UserMark.one_target("favourite")
        indexes = [models.Index(fields=["user", "kind", "-starred_at"])]


class Rating(UserMark):
    """A user's rating, 1 to 5 (rating 0 deletes the row)."""

    rating = models.PositiveSmallIntegerField()
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            *UserMark.one_target("rating"),
            models.CheckConstraint(condition=models.Q(rating__gte=1, rating__lte=5), name="rating_1_to_5"),
        ]


class Play(models.Model):
    """One play of a track (a scrobble)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="plays")
    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="plays")
    played_at = models.DateTimeField()
    device = models.CharField(max_length=100, blank=True, default="")
    submission = models.BooleanField(default=True, help_text="submitted by the client as a finished play")
    play_id = models.UUIDField(null=True, blank=True, help_text="the client's id of this play: recorded once")

    class Meta:
        ordering = ["-played_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-played_at"], name="play_user_recent"),
            models.Index(fields=["user", "track"], name="play_user_track"),
        ]
        constraints = [models.UniqueConstraint(fields=["user", "play_id"], name="play_once_per_play_id")]

    def __str__(self) -> str:
        return f"{self.user_id} played {self.track_id} at {self.played_at:%Y-%m-%d %H:%M}"


class NowPlaying(models.Model):
    """What a user's device is playing: one row per (user, device), replaced by the next
    track, ignored (and cleared) once ``expires`` (start + the track's duration + a margin)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="now_playing")
    device = models.CharField(max_length=100, blank=True, default="")
    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="now_playing")
    started_at = models.DateTimeField()
    expires = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name_plural = "now playing"
        ordering = ["-started_at"]
        constraints = [models.UniqueConstraint(fields=["user", "device"], name="now_playing_unique_device")]


class PlayerSettings(models.Model):
    """A user's settings, the same on every device (absent: the defaults)."""

    REPLAYGAIN_MODES = ("off", "track", "album")
    THEMES = ("system", "light", "dark")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="player_settings")
    replaygain = models.CharField(max_length=5, default="track", choices=[(m, m) for m in REPLAYGAIN_MODES],
                                  help_text="loudness levelling: off, per track, or per album")
    theme = models.CharField(max_length=6, default="system", choices=[(t, t) for t in THEMES],
                             help_text="the browser UI's colours: as the system says, light or dark")

    class Meta:
        verbose_name_plural = "player settings"


class Bookmark(models.Model):
    """A place in a track to resume from (audiobooks, long mixes); one per user and track."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bookmarks")
    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="bookmarks")
    position_ms = models.PositiveBigIntegerField()
    comment = models.TextField(blank=True, default="")
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "track"], name="bookmark_unique_track")]


class Share(models.Model):
    """Tracks a user shares with anyone who has the link ``/share/<token>``, no account needed.

    The entries are fixed when the share is made (an album or a playlist becomes its tracks
    then), so the link plays exactly those, and nothing else is reachable through it. It
    stops working at ``expires`` (if set); each visit of the page is counted."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shares")
    token = models.CharField(max_length=64, unique=True, help_text="the unguessable part of the link")
    description = models.TextField(blank=True, default="")
    created = models.DateTimeField(auto_now_add=True)
    expires = models.DateTimeField(null=True, blank=True)
    last_visited = models.DateTimeField(null=True, blank=True)
    visit_count = models.PositiveIntegerField(default=0)
    tracks = models.ManyToManyField(Track, through="ShareEntry", related_name="shares")

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"share {self.pk} of {self.owner_id}"


class ShareEntry(models.Model):
    share = models.ForeignKey(Share, on_delete=models.CASCADE, related_name="entries")
    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="share_entries")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["share", "position"]
        constraints = [models.UniqueConstraint(fields=["share", "position"], name="share_entry_unique_position")]


WEB_URL = URLValidator(schemes=["http", "https"])


class InternetRadioStation(models.Model):
    """A radio stream staff list for everyone (http or https URLs only)."""

    name = models.CharField(max_length=200)
    stream_url = models.URLField(max_length=2000, validators=[WEB_URL])
    homepage_url = models.URLField(max_length=2000, blank=True, default="", validators=[WEB_URL])
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


# -- Subsonic credentials ---------------------------------------------------------------------


class SubsonicCredential(models.Model):
    """A user's Subsonic app password and OpenSubsonic API key: separate from the login
    password, revocable (delete the row), managed by ``bridge.subsonic.credentials``.

    The trade-off: Subsonic token auth (``t = md5(password + salt)``) can only be checked
    by a server that knows the password, so this one is kept recoverable, encrypted with a
    key derived from ``SECRET_KEY``. It is therefore a random password made by the server,
    never the login password, and it opens the Subsonic API only. The API key is sent as
    is, so only its SHA-256 is kept (shown once, when made).
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subsonic_credential")
    password_encrypted = models.TextField(blank=True, default="", help_text="Fernet token of the Subsonic password")
    api_key_hash = models.CharField(max_length=64, null=True, blank=True, unique=True, help_text="SHA-256 of the API key")
    api_key_hint = models.CharField(max_length=8, blank=True, default="", help_text="the API key's first characters")
    stream_format = models.CharField(max_length=10, blank=True, default="", help_text=(
        "Subsonic apps' default stream format when they ask for none: '' (the original unless a maximum "
        "bitrate applies), raw, opus, mp3 or aac"))
    stream_max_bitrate = models.PositiveIntegerField(default=0, help_text=(
        "Subsonic apps' maximum stream bitrate in kbit/s (0: none); an app asking for less gets less"))
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    last_used = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Subsonic credentials of {self.user_id}"
