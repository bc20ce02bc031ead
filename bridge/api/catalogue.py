"""REST views of the catalogue: artists, albums, tracks, genres, search.

Each view parses its query parameters (bad ones: ``invalid_payload`` 400 naming them),
calls one selector from ``library.selectors`` and returns its result as it is. The
serializers below only describe those results for the OpenAPI schema; the selectors'
docstring is the reference for the shapes.
"""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from common.bounds import parse_int
from library import selectors

from .context import MAX_ID, ApiView, errors, parse
from .pagination import PagingQuery, page_of

TAG = ["catalogue"]


# -- the shapes the selectors return ------------------------------------------------------


class RefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ArtistSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    sort_name = serializers.CharField()
    album_count = serializers.IntegerField(allow_null=True)


class AlbumSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    sort_title = serializers.CharField()
    artist = RefSerializer(help_text="the album artist")
    year = serializers.IntegerField(allow_null=True)
    genres = serializers.ListField(child=serializers.CharField())
    compilation = serializers.BooleanField()
    disc_count = serializers.IntegerField()
    track_count = serializers.IntegerField()
    duration_ms = serializers.IntegerField()
    cover = serializers.IntegerField(allow_null=True, help_text="cover art id; the image is at albums/{id}/cover")
    created = serializers.DateTimeField()


class AlbumRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()


class ReplayGainSerializer(serializers.Serializer):
    track_gain = serializers.FloatField(allow_null=True)
    track_peak = serializers.FloatField(allow_null=True)
    album_gain = serializers.FloatField(allow_null=True)
    album_peak = serializers.FloatField(allow_null=True)


class TrackSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    artist = serializers.CharField(help_text="the artists as one line")
    artists = RefSerializer(many=True)
    album = AlbumRefSerializer()
    album_artist = RefSerializer()
    track_number = serializers.IntegerField(allow_null=True)
    disc_number = serializers.IntegerField(allow_null=True)
    year = serializers.IntegerField(allow_null=True)
    genres = serializers.ListField(child=serializers.CharField())
    duration_ms = serializers.IntegerField()
    format = serializers.CharField()
    codec = serializers.CharField()
    bitrate = serializers.IntegerField(allow_null=True)
    sample_rate = serializers.IntegerField(allow_null=True)
    channels = serializers.IntegerField(allow_null=True)
    size = serializers.IntegerField()
    cover = serializers.IntegerField(allow_null=True, help_text="the track's own cover art id, else the album's")
    library = serializers.IntegerField()
    replaygain = ReplayGainSerializer()


class ArtistDetailSerializer(ArtistSerializer):
    musicbrainz_id = serializers.CharField(allow_blank=True)
    albums = AlbumSerializer(many=True, help_text="as album artist, by year")
    appears_on = AlbumSerializer(many=True, help_text="other artists' albums with tracks of theirs")


class AlbumDetailSerializer(AlbumSerializer):
    musicbrainz_id = serializers.CharField(allow_blank=True)
    tracks = TrackSerializer(many=True, help_text="in disc and track order")


class MusicBrainzSerializer(serializers.Serializer):
    track = serializers.CharField(allow_blank=True)
    album = serializers.CharField(allow_blank=True)
    artist = serializers.CharField(allow_blank=True)


class TrackDetailSerializer(TrackSerializer):
    track_total = serializers.IntegerField(allow_null=True)
    disc_total = serializers.IntegerField(allow_null=True)
    lyrics = serializers.CharField(allow_blank=True)
    musicbrainz = MusicBrainzSerializer()
    updated = serializers.DateTimeField()
    path = serializers.CharField(required=False, help_text="staff only: the file's path on the server")


class GenreSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    album_count = serializers.IntegerField()
    track_count = serializers.IntegerField()


class AlbumListPageSerializer(page_of(AlbumSerializer)):
    seed = serializers.IntegerField(required=False, help_text="random order only: pass it back for the next page")


class SearchResultSerializer(serializers.Serializer):
    artists = page_of(ArtistSerializer, search=True)()
    albums = page_of(AlbumSerializer, search=True)()
    tracks = page_of(TrackSerializer, search=True)()


# -- query parameters ---------------------------------------------------------------------


class ArtistListQuery(PagingQuery):
    order = serializers.ChoiceField(choices=list(selectors.ARTIST_ORDERS), default="name")


class AlbumListQuery(PagingQuery):
    artist = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False, help_text="album artist id")
    genre = serializers.CharField(max_length=200, required=False,
                                  help_text="genre id (digits), or name in any case")
    year = serializers.IntegerField(min_value=0, max_value=9999, required=False)
    year_from = serializers.IntegerField(min_value=0, max_value=9999, required=False,
                                         help_text="albums of this year or later (undated ones left out)")
    year_to = serializers.IntegerField(min_value=0, max_value=9999, required=False,
                                       help_text="albums of this year or earlier (undated ones left out)")
    library = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False,
                                      help_text="library id: albums with a track in it")
    order = serializers.ChoiceField(
        choices=list(selectors.ALBUM_LIST_ORDERS), default="name",
        help_text="name; year (oldest first, undated last); recent (newest first); artist (album artist, then year); "
                  "random (a shuffle fixed by `seed`, which the page returns); your own most_played, recently_played, "
                  "starred (latest first), top_rated (only the albums you played, starred or rated)")
    descending = serializers.BooleanField(default=False, help_text="the order reversed (not for random)")
    seed = serializers.IntegerField(min_value=1, max_value=selectors.RANDOM_PRIME - 1, required=False,
                                    help_text="random order: the seed of the previous page, to page through one shuffle")

    def validate_genre(self, value: str) -> int | str:
        """ASCII digits are an id (past ``MAX_ID``: nobody's), anything else a name."""
        if value.isascii() and value.isdigit():
            number = parse_int(value, minimum=1)
            if number is None:
                raise serializers.ValidationError(f"No such genre id: genre ids are 1 to {MAX_ID}.")
            return number
        return value


class TrackListQuery(PagingQuery):
    album = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False, help_text="album id")
    artist = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False,
                                      help_text="artist id: their tracks and the tracks of their albums")
    genre = serializers.CharField(max_length=200, required=False,
                                  help_text="genre id (digits), or name in any case")
    year_from = serializers.IntegerField(min_value=0, max_value=9999, required=False,
                                         help_text="first year (the track's, else its album's)")
    year_to = serializers.IntegerField(min_value=0, max_value=9999, required=False, help_text="last year, included")
    library = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False, help_text="library id")
    updated_since = serializers.DateTimeField(required=False,
                                              help_text="ISO 8601 time: tracks added or changed since (incremental sync)")
    order = serializers.ChoiceField(choices=list(selectors.TRACK_ORDERS), default="album",
                                    help_text="album (album, disc, number); title; recent (newest first); "
                                              "updated (oldest change first); id (as added: the cheapest to page)")

    validate_genre = AlbumListQuery.validate_genre

    def validate(self, attrs: dict) -> dict:
        if attrs.get("year_from") is not None and attrs.get("year_to") is not None and attrs["year_from"] > attrs["year_to"]:
            raise serializers.ValidationError({"year_from": "must not be after year_to."})
        return attrs


class SearchQuery(PagingQuery):
    q = serializers.CharField(max_length=200, help_text="words; each matches the start of a word, any case or accents")


# -- views --------------------------------------------------------------------------------


class ArtistListView(ApiView):
    """Artists (album artists and track artists alike), by name or most recently added; any signed-in user."""

    @extend_schema(operation_id="artists_list", tags=TAG, parameters=[ArtistListQuery],
                   responses={200: page_of(ArtistSerializer), **errors(400)},
                   summary="A page of artists with their album counts")
    def get(self, request):
        query = parse(ArtistListQuery, request.query_params)
        return Response(selectors.artist_list(**query))


class ArtistDetailView(ApiView):
    """An artist with `albums` (as album artist, by year) and `appears_on` (others' albums with tracks of theirs)."""

    @extend_schema(operation_id="artists_get", tags=TAG, responses={200: ArtistDetailSerializer, **errors(404)},
                   summary="An artist with their albums and the albums they appear on")
    def get(self, request, artist_id: int):
        return Response(selectors.artist_get(artist_id))


class AlbumListView(ApiView):
    """Albums, optionally of one album artist, genre (id or name), year, years or library; in one of
    `ALBUM_LIST_ORDERS`, some of them the asking user's own (plays, stars, ratings)."""

    @extend_schema(operation_id="albums_list", tags=TAG, parameters=[AlbumListQuery],
                   responses={200: AlbumListPageSerializer, **errors(400)},
                   summary="A page of albums, filtered and ordered")
    def get(self, request):
        query = parse(AlbumListQuery, request.query_params)
        return Response(selectors.album_list(**query, user=request.user))


class AlbumDetailView(ApiView):
    """An album with its `tracks` in disc and track order."""

    @extend_schema(operation_id="albums_get", tags=TAG, responses={200: AlbumDetailSerializer, **errors(404)},
                   summary="An album with its tracks")
    def get(self, request, album_id: int):
        return Response(selectors.album_get(album_id))


class TrackListView(ApiView):
    """Tracks, optionally of one album, artist, genre (id or name), year range or library, or changed since a time; paged, ordered."""

    @extend_schema(operation_id="tracks_list", tags=TAG, parameters=[TrackListQuery],
                   responses={200: page_of(TrackSerializer), **errors(400)},
                   summary="A page of tracks, filtered and ordered (updated_since for incremental sync)")
    def get(self, request):
        query = parse(TrackListQuery, request.query_params)
        return Response(selectors.track_list(**query))


class TrackDetailView(ApiView):
    """A track with its details besides the list fields: totals, lyrics, MusicBrainz ids."""

    @extend_schema(operation_id="tracks_get", tags=TAG, responses={200: TrackDetailSerializer, **errors(404)},
                   summary="A track with its details (lyrics, MusicBrainz ids, replay gain)")
    def get(self, request, track_id: int):
        return Response(selectors.track_get(track_id, with_path=request.user.is_staff))


class GenreListView(ApiView):
    """The genres in use, by name."""

    @extend_schema(operation_id="genres_list", tags=TAG, responses={200: GenreSerializer(many=True), **errors()},
                   summary="The genres in use, by name, with album and track counts")
    def get(self, request):
        return Response(selectors.genre_list())


class SearchView(ApiView):
    """Artists, albums and tracks whose words start with the words of `q` (any case, any accents), best first; each a page with the same offset and limit."""

    @extend_schema(operation_id="search", tags=TAG, parameters=[SearchQuery],
                   responses={200: SearchResultSerializer, **errors(400)},
                   summary="Artists, albums and tracks matching the words of q, best first")
    def get(self, request):
        query = parse(SearchQuery, request.query_params)
        return Response(selectors.search(query.pop("q"), **query))
