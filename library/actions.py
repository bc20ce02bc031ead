"""Catalogue lookups on the bus; each handler is a thin call to ``library.selectors``."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from common import bounds
from common.messages import Message
from common.registry import Empty, Schema, registry

from . import lyrics, selectors

Id = bounds.Id
Offset = bounds.Count
Limit = Annotated[int, Field(ge=1, le=selectors.MAX_LIMIT)]
GenreName = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class Paging(Schema):
    offset: Offset = 0
    limit: Limit = selectors.DEFAULT_LIMIT


class ArtistList(Paging):
    order: Literal["name", "recent"] = "name"


class ArtistRef(Schema):
    artist: Id


Year = Annotated[int, Field(ge=0, le=9999)]


class AlbumList(Paging):
    artist: Id | None = None
    genre: Id | GenreName | None = None
    year: Year | None = None
    year_from: Year | None = None
    year_to: Year | None = None
    library: Id | None = None
    order: Literal[selectors.ALBUM_LIST_ORDERS] = "name"  # type: ignore[valid-type]
    descending: bool = False
    seed: Annotated[int, Field(ge=1, lt=selectors.RANDOM_PRIME)] | None = None


class AlbumRef(Schema):
    album: Id


class TrackRef(Schema):
    track: Id


class TrackList(Paging):
    order: Literal[tuple(selectors.TRACK_ORDERS)] = "album"  # type: ignore[valid-type]
    descending: bool = False
    genre: Id | GenreName | None = None
    year_from: Year | None = None
    year_to: Year | None = None


class SearchQuery(Paging):
    query: Annotated[str, StringConstraints(min_length=1, max_length=200)]


def _paging(payload: dict) -> dict:
    return {"offset": payload.get("offset", 0), "limit": payload.get("limit", selectors.DEFAULT_LIMIT)}


@registry.action("library.artist.list", ArtistList, doc="A page of artists, by name or most recently added.")
def artist_list(message: Message) -> dict:
    return selectors.artist_list(order=message.payload.get("order", "name"), **_paging(message.payload))


@registry.action("library.artist.get", ArtistRef, doc="An artist with their albums and the albums they appear on.")
def artist_get(message: Message) -> dict:
    return selectors.artist_get(message.payload["artist"])


@registry.action(
    "library.album.list",
    AlbumList,
    doc="A page of albums, filtered by `artist`, `genre` (id or name), `year` or `year_from`..`year_to`, `library`; "
        "ordered by name, year, recent, artist, random (pages follow `seed`), or your most_played, recently_played, "
        "starred, top_rated; `descending` reverses.",
)
def album_list(message: Message) -> dict:
    payload = message.payload
    order = payload.get("order", "name")
    return selectors.album_list(
        artist=payload.get("artist"),
        genre=payload.get("genre"),
        year=payload.get("year"),
        year_from=payload.get("year_from"),
        year_to=payload.get("year_to"),
        library=payload.get("library"),
        order=order,
        descending=payload.get("descending", False),
        seed=payload.get("seed"),
        user=_user(message) if order in selectors.PERSONAL_ALBUM_ORDERS else None,
        **_paging(payload),
    )


@registry.action("library.album.get", AlbumRef, doc="An album with its tracks in disc and track order.")
def album_get(message: Message) -> dict:
    return selectors.album_get(message.payload["album"])


@registry.action("library.track.get", TrackRef,
                 doc="A track with its details (lyrics, MusicBrainz ids, replay gain); for staff, its file's `path` too.")
def track_get(message: Message) -> dict:
    return selectors.track_get(message.payload["track"], with_path=message.context.is_staff)


@registry.action(
    "library.track.list",
    TrackList,
    doc="A page of every track, of a `genre` or `year_from`..`year_to`; ordered by title, artist, album, year, "
        "duration or recent; `descending` reverses.",
)
def track_list(message: Message) -> dict:
    payload = message.payload
    return selectors.track_list(
        order=payload.get("order", "album"), descending=payload.get("descending", False), genre=payload.get("genre"),
        year_from=payload.get("year_from"), year_to=payload.get("year_to"), **_paging(payload),
    )


@registry.action("library.track.lyrics", TrackRef,
                 doc="A track's lyrics as lines: `synced` when the file has timed (LRC) lyrics, each line then with its `start` (ms).")
def track_lyrics(message: Message) -> dict:
    track = selectors.track_get(message.payload["track"])
    synced, lines = lyrics.parse_lyrics(track["lyrics"])
    return {"track": track["id"], "synced": synced, "lines": lines}


@registry.action("library.genre.list", Empty, doc="The genres in use, with their album and track counts.")
def genre_list(message: Message) -> list:
    return selectors.genre_list()


@registry.action(
    "library.search.query",
    SearchQuery,
    doc="Artists, albums and tracks whose words start with the query's words (any case, any accents), best first.",
)
def search_query(message: Message) -> dict:
    return selectors.search(message.payload["query"], **_paging(message.payload))


# -- the user's own data: playlists, favourites, ratings, plays ------------------------------
# (``play.record`` defaults to the connection's device, a tracker: ``tracker.actions``.)
# Thin calls to ``library.userdata``; the acting user comes from the message context.

from django.contrib.auth import get_user_model  # noqa: E402

from common.errors import Unauthenticated  # noqa: E402

from .userdata import favourites, playlists, plays, preferences, ratings, shared  # noqa: E402

PlaylistName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=playlists.MAX_NAME)]
Comment = Annotated[str, StringConstraints(max_length=shared.MAX_COMMENT)]
TrackIds = Annotated[list[Id], Field(max_length=playlists.MAX_ENTRIES)]
Index = Annotated[int, Field(ge=0, lt=playlists.MAX_ENTRIES)]
Indexes = Annotated[list[Index], Field(min_length=1, max_length=playlists.MAX_ENTRIES)]
Kind = Literal["track", "album", "artist"]


class PlaylistRef(Schema):
    playlist: Id


class PlaylistCreate(Schema):
    name: PlaylistName
    comment: Comment = ""
    public: bool = False
    tracks: TrackIds = []


class PlaylistUpdate(Schema):
    playlist: Id
    name: PlaylistName | None = None
    comment: Comment | None = None
    public: bool | None = None
    add: TrackIds = []
    remove: Annotated[list[Index], Field(max_length=playlists.MAX_ENTRIES)] = []


class PlaylistAdd(Schema):
    playlist: Id
    tracks: Annotated[list[Id], Field(min_length=1, max_length=playlists.MAX_ENTRIES)]
    position: Index | None = None


class PlaylistRemove(Schema):
    playlist: Id
    indexes: Indexes


class PlaylistMove(Schema):
    playlist: Id
    from_index: Index
    to_index: Index


class FavouriteSet(Schema):
    kind: Kind
    id: Id
    starred: bool = True


class SettingsUpdate(Schema):
    replaygain: Literal["off", "track", "album"] | None = None  # preferences.CHOICES
    theme: Literal["system", "light", "dark"] | None = None  # preferences.CHOICES


class RatingGet(Schema):
    kind: Kind
    ids: Annotated[list[Id], Field(max_length=selectors.MAX_LIMIT)]


class RatingSet(Schema):
    kind: Kind
    id: Id
    rating: Annotated[int, Field(ge=0, le=5)]


def _user(message: Message):
    user = get_user_model().objects.filter(pk=message.context.user_id, is_active=True).first()
    if user is None:
        raise Unauthenticated()
    return user


@registry.action("playlist.list", Empty, doc="Your playlists and other users' public ones, by name.")
def playlist_list(message: Message) -> list:
    return playlists.playlist_list(_user(message))


@registry.action("playlist.get", PlaylistRef, doc="A playlist (yours or a public one) with its tracks in order.")
def playlist_get(message: Message) -> dict:
    return playlists.playlist_get(_user(message), message.payload["playlist"])


@registry.action("playlist.create", PlaylistCreate, doc="Create a playlist of yours, optionally with `tracks` (ids, in order).")
def playlist_create(message: Message) -> dict:
    payload = message.payload
    return playlists.playlist_create(
        _user(message), payload["name"], track_ids=payload.get("tracks", []),
        comment=payload.get("comment", ""), public=payload.get("public", False),
    )


@registry.action(
    "playlist.update",
    PlaylistUpdate,
    doc="Rename, comment or share a playlist of yours; `remove` entries (indexes before the change), then `add` tracks at the end.",
)
def playlist_update(message: Message) -> dict:
    payload = message.payload
    return playlists.playlist_update(
        _user(message), payload["playlist"], name=payload.get("name"), comment=payload.get("comment"),
        public=payload.get("public"), add_track_ids=payload.get("add", []), remove_indexes=payload.get("remove", []),
    )


@registry.action("playlist.add", PlaylistAdd, doc="Insert tracks into a playlist of yours at index `position` (default: the end).")
def playlist_add(message: Message) -> dict:
    payload = message.payload
    return playlists.playlist_add(_user(message), payload["playlist"], payload["tracks"], position=payload.get("position"))


@registry.action("playlist.remove", PlaylistRemove, doc="Remove the entries at these indexes from a playlist of yours.")
def playlist_remove(message: Message) -> dict:
    return playlists.playlist_remove(_user(message), message.payload["playlist"], message.payload["indexes"])


@registry.action("playlist.move", PlaylistMove, doc="Move a playlist entry of yours from `from_index` to `to_index`.")
def playlist_move(message: Message) -> dict:
    payload = message.payload
    return playlists.playlist_move(_user(message), payload["playlist"], payload["from_index"], payload["to_index"])


@registry.action("playlist.delete", PlaylistRef, doc="Delete a playlist of yours.")
def playlist_delete(message: Message) -> dict:
    playlists.playlist_delete(_user(message), message.payload["playlist"])
    return {"playlist": message.payload["playlist"], "deleted": True}


@registry.action("favourite.set", FavouriteSet, doc="Star (`starred`: true, the default) or unstar a track, album or artist.")
def favourite_set(message: Message) -> dict:
    payload = message.payload
    return favourites.favourite_set(_user(message), payload["kind"], payload["id"], payload.get("starred", True))


@registry.action("favourite.list", Empty, doc="The artists, albums and tracks you starred, most recent first.")
def favourite_list(message: Message) -> dict:
    return favourites.favourite_list(_user(message))


@registry.action("rating.set", RatingSet, doc="Rate a track, album or artist 1-5; 0 clears your rating.")
def rating_set(message: Message) -> dict:
    payload = message.payload
    return ratings.rating_set(_user(message), payload["kind"], payload["id"], payload["rating"])


@registry.action("rating.get", RatingGet, doc="Your ratings of these tracks, albums or artists: `[{id, rating}]` for those you rated.")
def rating_get(message: Message) -> list:
    payload = message.payload
    rated = ratings.rating_get_many(_user(message), payload["kind"], payload["ids"])
    return [{"id": object_id, "rating": rating} for object_id, rating in rated.items()]


@registry.action("play.list", Paging, doc="A page of your play history, most recent first.")
def play_list(message: Message) -> dict:
    return plays.play_list(_user(message), **_paging(message.payload))


@registry.action("play.now_playing", Empty, doc="What every user is playing now, most recently started first.")
def play_now_playing(message: Message) -> list:
    return plays.now_playing_list()


@registry.action("play.top", Paging, doc="A page of the tracks you played most, with their play counts, most first.")
def play_top(message: Message) -> dict:
    return plays.play_top(_user(message), **_paging(message.payload))


# -- the user's settings (the same on every device) -----------------------------------------


@registry.action("account.settings.get", Empty, doc="Your settings: `replaygain` (off, track or album), `theme` (system, light or dark).")
def settings_get(message: Message) -> dict:
    return preferences.settings_get(_user(message))


@registry.action("account.settings.update", SettingsUpdate, doc="Change your settings; returns them all.")
def settings_update(message: Message) -> dict:
    changes = {name: value for name, value in message.payload.items() if value is not None}
    return preferences.settings_update(_user(message), **changes)
