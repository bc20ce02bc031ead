"""The browser UI's pages; included at the site root from ``mediaproject/urls.py``."""
from django.urls import path

from . import shares, views

urlpatterns = [
    path("", views.app, name="ui-app"),
    path("login/", views.LoginView.as_view(), name="ui-login"),
    path("logout/", views.LogoutView.as_view(), name="ui-logout"),
    # Public share links (no account): the page, and only the shared tracks' audio and covers.
    path("share/<str:token>", shares.share_page, name="share-page"),
    path("share/<str:token>/stream/<str:track>", shares.share_stream, name="share-stream"),
    path("share/<str:token>/cover/<str:track>", shares.share_cover, name="share-cover"),
]
