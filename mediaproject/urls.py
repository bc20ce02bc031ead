from django.contrib import admin
from django.urls import include, path

from bridge.health import healthz
from bridge.lockout import refuse_when_locked

urlpatterns = [
    # The admin's login, answering locked-out sign-ins (``bridge.lockout``) with 429.
    path("admin/login/", refuse_when_locked(admin.site.login), name="admin-login"),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("api/v1/", include("bridge.api.urls")),
    path("rest/", include("bridge.subsonic.urls")),
    path("", include("bridge.ui_urls")),
]
