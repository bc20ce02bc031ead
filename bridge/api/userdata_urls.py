"""REST endpoints for the user's own data (playlists, favourites, ratings, plays, bookmarks, settings)."""
from django.urls import path

from . import userdata as views
from .account import PasswordView

urlpatterns = [
    path("playlists/", views.PlaylistListView.as_view(), name="playlist-list"),
    path("playlists/<int:playlist_id>/", views.PlaylistDetailView.as_view(), name="playlist-detail"),
    path("playlists/<int:playlist_id>/tracks/", views.PlaylistTracksView.as_view(), name="playlist-tracks"),
    path("playlists/<int:playlist_id>/tracks/<int:index>", views.PlaylistEntryView.as_view(), name="playlist-entry"),
    path("playlists/<int:playlist_id>/move/", views.PlaylistMoveView.as_view(), name="playlist-move"),
    path("favourites/", views.FavouriteListView.as_view(), name="favourite-list"),
    path("favourites/<str:kind>/<int:object_id>", views.FavouriteDetailView.as_view(), name="favourite-detail"),
    path("ratings/", views.RatingView.as_view(), name="rating"),
    path("plays/", views.PlayListView.as_view(), name="play-list"),
    path("plays/now-playing/", views.NowPlayingView.as_view(), name="now-playing"),
    path("plays/top/", views.TopTracksView.as_view(), name="play-top"),
    path("me/settings", views.SettingsView.as_view(), name="me-settings"),
    path("me/password", PasswordView.as_view(), name="me-password"),
    path("bookmarks/", views.BookmarkListView.as_view(), name="bookmark-list"),
    path("bookmarks/<int:track_id>", views.BookmarkDetailView.as_view(), name="bookmark-detail"),
]
