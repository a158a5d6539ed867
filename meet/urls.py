from django.contrib import admin
from django.urls import include, path

from meet import health
from rooms import views as room_views

urlpatterns = [
    path("", room_views.home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("rooms/", include("rooms.urls")),
    path("api/", include("signaling.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
