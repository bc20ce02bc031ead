from django.contrib import admin
from django.urls import include, path

from bridge.health import healthz

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("api/v1/", include("bridge.api.urls")),
    path("rest/", include("bridge.subsonic.urls")),
    path("", include("bridge.ui_urls")),
]
