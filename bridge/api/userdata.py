"""REST views of the caller's own data: playlists, favourites, ratings, plays, bookmarks.

Each view parses its body or query with a serializer (bad input: ``invalid_payload`` 400
naming the fields; unknown body fields are refused too), calls one service or selector of
``library.userdata`` with the signed-in user, and returns its result as it is. The output
serializers below only describe those results for the OpenAPI schema; the module
docstring of ``library.userdata`` is the reference for the shapes.
"""
from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from library.userdata import bookmarks, favourites, playlists, plays, preferences, ratings, shared

from .catalogue import AlbumSerializer, ArtistSerializer, TrackSerializer
from .context import MAX_ID, ApiView, errors, parse, reject_unknown
from .pagination import PagingQuery, page_of

KINDS = list(shared.KINDS)


def _body(serializer_class: type[serializers.Serializer], request) -> dict[str, Any]:
    """The validated body; ``invalid_payload`` for bad or unknown fields."""
    reject_unknown(request.data, set(serializer_class().fields))
    return parse(serializer_class, request.data)


def _track_ids(**kwargs) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), max_length=playlists.MAX_ENTRIES, **kwargs
    )


def _index(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=0, max_value=playlists.MAX_ENTRIES - 1, **kwargs)


# -- request bodies -----------------------------------------------------------------------


class PlaylistCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=playlists.MAX_NAME)
    comment = serializers.CharField(max_length=shared.MAX_COMMENT, allow_blank=True, default="")
    public = serializers.BooleanField(default=False, help_text="visible (read-only) to every user")
    track_ids = _track_ids(default=list, help_text="the tracks, in order")


class PlaylistUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=playlists.MAX_NAME, required=False)
    comment = serializers.CharField(max_length=shared.MAX_COMMENT, allow_blank=True, required=False)
    public = serializers.BooleanField(required=False)
    remove_indexes = serializers.ListField(child=_index(), max_length=playlists.MAX_ENTRIES, required=False,
                                           help_text="entries to remove (indexes before the change); done first")
    add_track_ids = _track_ids(required=False, help_text="tracks to append, after the removals")


class PlaylistAddSerializer(serializers.Serializer):
    track_ids = _track_ids(min_length=1)
    position = serializers.IntegerField(min_value=0, max_value=playlists.MAX_ENTRIES, required=False, allow_null=True,
                                        help_text="index to insert at (0 = first); default: the end")


class PlaylistMoveSerializer(serializers.Serializer):
    from_index = _index()
    to_index = _index(help_text="the entry's index after the move")


class FavouriteRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=KINDS)
    id = serializers.IntegerField(min_value=1, max_value=MAX_ID)


class RatingRequestSerializer(FavouriteRequestSerializer):
    rating = serializers.IntegerField(min_value=0, max_value=5, help_text="1-5; 0 clears the rating")


class PlayRequestSerializer(serializers.Serializer):
    track = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    played_at = serializers.DateTimeField(required=False, help_text="when it was played; default now")
    submission = serializers.BooleanField(
        default=True, help_text="true: a finished play (scrobble); false: only 'now playing' on this device"
    )
    device = serializers.CharField(max_length=plays.MAX_DEVICE, allow_blank=True, default="")
    play_id = serializers.UUIDField(required=False, help_text="the client's id of this play: recorded once")


class SettingsSerializer(serializers.Serializer):
    replaygain = serializers.ChoiceField(choices=preferences.CHOICES["replaygain"], required=False,
                                         help_text="loudness levelling: off, per track (default), or per album")
    theme = serializers.ChoiceField(choices=preferences.CHOICES["theme"], required=False,
                                    help_text="the browser UI's colours: system (default), light or dark")


class BookmarkRequestSerializer(serializers.Serializer):
    track = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    position_ms = serializers.IntegerField(min_value=0, max_value=bookmarks.MAX_BOOKMARK_MS)
    comment = serializers.CharField(max_length=shared.MAX_COMMENT, allow_blank=True, default="")


# -- the shapes the services return -------------------------------------------------------


class AccountRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()


class PlaylistSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    comment = serializers.CharField(allow_blank=True)
    public = serializers.BooleanField()
    owner = AccountRefSerializer()
    track_count = serializers.IntegerField()
    duration_ms = serializers.IntegerField()
    created = serializers.DateTimeField()
    updated = serializers.DateTimeField()
    cover = serializers.IntegerField(allow_null=True, help_text="cover art id of the first entry that has one")


class PlaylistDetailSerializer(PlaylistSerializer):
    tracks = TrackSerializer(many=True, help_text="in playlist order (index 0 first)")


class PlaylistChangedSerializer(PlaylistSerializer):
    track_ids = serializers.ListField(child=serializers.IntegerField(), help_text="the entries' tracks, in order")


class FavouriteStateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=KINDS)
    id = serializers.IntegerField()
    starred = serializers.BooleanField()
    starred_at = serializers.DateTimeField(allow_null=True)


class StarredArtistSerializer(ArtistSerializer):
    starred_at = serializers.DateTimeField()


class StarredAlbumSerializer(AlbumSerializer):
    starred_at = serializers.DateTimeField()


class StarredTrackSerializer(TrackSerializer):
    starred_at = serializers.DateTimeField()


class FavouritesSerializer(serializers.Serializer):
    artists = StarredArtistSerializer(many=True)
    albums = StarredAlbumSerializer(many=True)
    tracks = StarredTrackSerializer(many=True)


class RatingStateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=KINDS)
    id = serializers.IntegerField()
    rating = serializers.IntegerField()


class PlaySerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True, help_text="null when only 'now playing' was recorded")
    track = TrackSerializer()
    played_at = serializers.DateTimeField()
    device = serializers.CharField(allow_blank=True)
    submission = serializers.BooleanField()


class TopTrackSerializer(serializers.Serializer):
    track = TrackSerializer()
    plays = serializers.IntegerField()
    last_played = serializers.DateTimeField()


class NowPlayingSerializer(serializers.Serializer):
    user = AccountRefSerializer()
    device = serializers.CharField(allow_blank=True)
    track = TrackSerializer()
    started_at = serializers.DateTimeField()
    minutes_ago = serializers.IntegerField()


class BookmarkSerializer(serializers.Serializer):
    track = TrackSerializer()
    position_ms = serializers.IntegerField()
    comment = serializers.CharField(allow_blank=True)
    created = serializers.DateTimeField()
    updated = serializers.DateTimeField()


# -- playlists ----------------------------------------------------------------------------


class PlaylistListView(ApiView):
    @extend_schema(operation_id="playlists_list", tags=["playlists"], responses={200: PlaylistSerializer(many=True), **errors()},
                   summary="Your playlists and other users' public ones, by name")
    def get(self, request):
        return Response(playlists.playlist_list(request.user))

    @extend_schema(operation_id="playlists_create", tags=["playlists"], request=PlaylistCreateSerializer,
                   responses={201: PlaylistChangedSerializer, **errors(400, 404)},
                   summary="Create a playlist of yours (404 names a track that does not exist)")
    def post(self, request):
        body = _body(PlaylistCreateSerializer, request)
        return Response(playlists.playlist_create(request.user, body.pop("name"), **body), status=status.HTTP_201_CREATED)


class PlaylistDetailView(ApiView):
    @extend_schema(operation_id="playlists_get", tags=["playlists"], responses={200: PlaylistDetailSerializer, **errors(404)},
                   summary="A playlist (yours or a public one) with its tracks in order")
    def get(self, request, playlist_id: int):
        return Response(playlists.playlist_get(request.user, playlist_id))

    @extend_schema(operation_id="playlists_update", tags=["playlists"], request=PlaylistUpdateSerializer,
                   responses={200: PlaylistChangedSerializer, **errors(400, 403, 404)},
                   summary="Rename, comment, share a playlist of yours; remove entries, then append tracks")
    def patch(self, request, playlist_id: int):
        return Response(playlists.playlist_update(request.user, playlist_id, **_body(PlaylistUpdateSerializer, request)))

    @extend_schema(operation_id="playlists_delete", tags=["playlists"], responses={204: None, **errors(403, 404)},
                   summary="Delete a playlist of yours")
    def delete(self, request, playlist_id: int):
        playlists.playlist_delete(request.user, playlist_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PlaylistTracksView(ApiView):
    @extend_schema(operation_id="playlists_add", tags=["playlists"], request=PlaylistAddSerializer,
                   responses={200: PlaylistChangedSerializer, **errors(400, 403, 404)},
                   summary="Insert tracks into a playlist of yours (default: at the end)")
    def post(self, request, playlist_id: int):
        body = _body(PlaylistAddSerializer, request)
        return Response(playlists.playlist_add(request.user, playlist_id, body["track_ids"], position=body.get("position")))


class PlaylistEntryView(ApiView):
    @extend_schema(operation_id="playlists_remove", tags=["playlists"],
                   responses={200: PlaylistChangedSerializer, **errors(400, 403, 404)},
                   summary="Remove the entry at an index from a playlist of yours")
    def delete(self, request, playlist_id: int, index: int):
        return Response(playlists.playlist_remove(request.user, playlist_id, [index]))


class PlaylistMoveView(ApiView):
    @extend_schema(operation_id="playlists_move", tags=["playlists"], request=PlaylistMoveSerializer,
                   responses={200: PlaylistChangedSerializer, **errors(400, 403, 404)},
                   summary="Move an entry of a playlist of yours")
    def post(self, request, playlist_id: int):
        body = _body(PlaylistMoveSerializer, request)
        return Response(playlists.playlist_move(request.user, playlist_id, body["from_index"], body["to_index"]))


# -- favourites and ratings ---------------------------------------------------------------


class FavouriteListView(ApiView):
    @extend_schema(operation_id="favourites_list", tags=["favourites"], responses={200: FavouritesSerializer, **errors()},
                   summary="The artists, albums and tracks you starred, most recent first")
    def get(self, request):
        return Response(favourites.favourite_list(request.user))

    @extend_schema(operation_id="favourites_star", tags=["favourites"], request=FavouriteRequestSerializer,
                   responses={200: FavouriteStateSerializer, **errors(400, 404)},
                   summary="Star a track, album or artist (starring again keeps the first time)")
    def post(self, request):
        body = _body(FavouriteRequestSerializer, request)
        return Response(favourites.favourite_set(request.user, body["kind"], body["id"], True))


class FavouriteDetailView(ApiView):
    @extend_schema(operation_id="favourites_unstar", tags=["favourites"],
                   parameters=[OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=KINDS)],
                   responses={200: FavouriteStateSerializer, **errors(400, 404)},
                   summary="Unstar a track, album or artist")
    def delete(self, request, kind: str, object_id: int):
        return Response(favourites.favourite_set(request.user, kind, object_id, False))


class RatingView(ApiView):
    @extend_schema(operation_id="ratings_set", tags=["ratings"], request=RatingRequestSerializer,
                   responses={200: RatingStateSerializer, **errors(400, 404)},
                   summary="Rate a track, album or artist 1-5; 0 clears your rating")
    def put(self, request):
        body = _body(RatingRequestSerializer, request)
        return Response(ratings.rating_set(request.user, body["kind"], body["id"], body["rating"]))

    @extend_schema(operation_id="ratings_set_post", tags=["ratings"], request=RatingRequestSerializer,
                   responses={200: RatingStateSerializer, **errors(400, 404)}, summary="Same as PUT")
    def post(self, request):
        return self.put(request)


# -- plays --------------------------------------------------------------------------------


class PlayListView(ApiView):
    @extend_schema(operation_id="plays_list", tags=["plays"], parameters=[PagingQuery],
                   responses={200: page_of(PlaySerializer), **errors(400)},
                   summary="A page of your play history, most recent first")
    def get(self, request):
        return Response(plays.play_list(request.user, **parse(PagingQuery, request.query_params)))

    @extend_schema(operation_id="plays_record", tags=["plays"], request=PlayRequestSerializer,
                   responses={201: PlaySerializer, 200: PlaySerializer, **errors(400, 404)},
                   summary="Record a play (201), or with submission false what a device is playing now (200)")
    def post(self, request):
        body = _body(PlayRequestSerializer, request)
        result = plays.play_record(request.user, body.pop("track"), **body)
        return Response(result, status=status.HTTP_201_CREATED if result["id"] is not None else status.HTTP_200_OK)


class TopTracksView(ApiView):
    @extend_schema(operation_id="plays_top", tags=["plays"], parameters=[PagingQuery],
                   responses={200: page_of(TopTrackSerializer), **errors(400)},
                   summary="A page of the tracks you played most, most first")
    def get(self, request):
        return Response(plays.play_top(request.user, **parse(PagingQuery, request.query_params)))


class NowPlayingView(ApiView):
    @extend_schema(operation_id="plays_now_playing", tags=["plays"], responses={200: NowPlayingSerializer(many=True), **errors()},
                   summary="What every user is playing now, most recently started first")
    def get(self, request):
        return Response(plays.now_playing_list())


# -- settings -----------------------------------------------------------------------------


class SettingsView(ApiView):
    @extend_schema(operation_id="me_settings_get", tags=["account"], responses={200: SettingsSerializer, **errors()},
                   summary="Your settings (the same on every device)")
    def get(self, request):
        return Response(preferences.settings_get(request.user))

    @extend_schema(operation_id="me_settings_update", tags=["account"], request=SettingsSerializer,
                   responses={200: SettingsSerializer, **errors(400)}, summary="Change some of your settings")
    def patch(self, request):
        return Response(preferences.settings_update(request.user, **_body(SettingsSerializer, request)))


# -- bookmarks ----------------------------------------------------------------------------


class BookmarkListView(ApiView):
    @extend_schema(operation_id="bookmarks_list", tags=["bookmarks"], responses={200: BookmarkSerializer(many=True), **errors()},
                   summary="Your bookmarks, most recently set first")
    def get(self, request):
        return Response(bookmarks.bookmark_list(request.user))

    @extend_schema(operation_id="bookmarks_set", tags=["bookmarks"], request=BookmarkRequestSerializer,
                   responses={200: BookmarkSerializer, **errors(400, 404)},
                   summary="Create or move your bookmark in a track")
    def put(self, request):
        body = _body(BookmarkRequestSerializer, request)
        return Response(bookmarks.bookmark_set(request.user, body["track"], body["position_ms"], body["comment"]))

    @extend_schema(operation_id="bookmarks_set_post", tags=["bookmarks"], request=BookmarkRequestSerializer,
                   responses={200: BookmarkSerializer, **errors(400, 404)}, summary="Same as PUT")
    def post(self, request):
        return self.put(request)


class BookmarkDetailView(ApiView):
    @extend_schema(operation_id="bookmarks_delete", tags=["bookmarks"], responses={204: None, **errors(404)},
                   summary="Remove your bookmark in a track")
    def delete(self, request, track_id: int):
        bookmarks.bookmark_delete(request.user, track_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
