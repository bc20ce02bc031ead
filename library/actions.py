"""Catalogue lookups on the bus; each handler is a thin call to ``library.selectors``."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from common.messages import Message
from common.registry import Empty, Schema, registry

from . import selectors

Id = Annotated[int, Field(ge=1)]
Offset = Annotated[int, Field(ge=0)]
Limit = Annotated[int, Field(ge=1, le=selectors.MAX_LIMIT)]
GenreName = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class Paging(Schema):
    offset: Offset = 0
    limit: Limit = selectors.DEFAULT_LIMIT


class ArtistList(Paging):
    order: Literal["name", "recent"] = "name"


class ArtistRef(Schema):
    artist: Id


class AlbumList(Paging):
    artist: Id | None = None
    genre: Id | GenreName | None = None
    year: Annotated[int, Field(ge=0, le=9999)] | None = None
    library: Id | None = None
    order: Literal["name", "year", "recent"] = "name"


class AlbumRef(Schema):
    album: Id


class TrackRef(Schema):
    track: Id


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
    doc="A page of albums, filtered by `artist`, `genre` (id or name), `year`, `library`; ordered by name, year or recent.",
)
def album_list(message: Message) -> dict:
    payload = message.payload
    return selectors.album_list(
        artist=payload.get("artist"),
        genre=payload.get("genre"),
        year=payload.get("year"),
        library=payload.get("library"),
        order=payload.get("order", "name"),
        **_paging(payload),
    )


@registry.action("library.album.get", AlbumRef, doc="An album with its tracks in disc and track order.")
def album_get(message: Message) -> dict:
    return selectors.album_get(message.payload["album"])


@registry.action("library.track.get", TrackRef, doc="A track with its details (lyrics, MusicBrainz ids, replay gain).")
def track_get(message: Message) -> dict:
    return selectors.track_get(message.payload["track"])


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
