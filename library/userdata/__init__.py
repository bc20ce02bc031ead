"""Per-user data every interface shares, one module per feature: ``playlists``,
``favourites`` (stars), ``ratings``, ``plays`` (scrobbles and "now playing"),
``bookmarks`` and ``preferences`` (player settings); ``shared`` holds their argument checks.

Services (writes) and selectors (reads), named ``<entity>_<action>``. Each takes the acting
``user`` (a User instance), validates its arguments (REST, WebSocket and Subsonic call these
directly), and returns JSON-safe dicts; failures raise ``NotFound``, ``Forbidden`` or
``InvalidPayload`` from ``common.errors``. Catalogue objects inside the results use the
shapes of ``library.selectors`` (``_track``, ``_album``, ``_artist``); a user reference is
``{id, username}``.

Album rankings (``ratings.rated_albums``, ``plays.played_albums``, ``favourites.starred_albums``)
narrow an album queryset to those the user rated, played or starred and give their order
(``selectors.album_list``'s personal orders); ``ratings.album_ids_by_rating`` and
``plays.album_ids_by_plays`` return a page of those ids (Subsonic's getAlbumList types
highest, frequent and recent).
"""
