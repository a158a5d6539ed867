from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from meet import health
from rooms import views as room_views

urlpatterns = [
    path("", room_views.home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("rooms/", include("rooms.urls")),
    path("api/", include("signaling.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    # Browsers ask for /favicon.ico on pages without an icon link (Django's admin pages).
    path(
        "favicon.ico",
        RedirectView.as_view(url=static("img/logo.svg"), permanent=True),
        name="favicon",
    ),
]
