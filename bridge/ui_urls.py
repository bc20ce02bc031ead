"""The browser UI's pages; included at the site root from ``mediaproject/urls.py``."""
from django.urls import path

from . import views

urlpatterns = [
    path("", views.app, name="ui-app"),
    path("login/", views.LoginView.as_view(), name="ui-login"),
    path("logout/", views.LogoutView.as_view(), name="ui-logout"),
]
