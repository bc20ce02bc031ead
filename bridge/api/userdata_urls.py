"""REST endpoints for the user's own data (playlists, favourites, ratings, plays)."""

urlpatterns: list = []
