from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from django.views.i18n import JavaScriptCatalog

from meet import health
from rooms import views as room_views
from signaling import views as signaling_views


class FaviconRedirect(RedirectView):
    """Points at the logo; resolved per request because the static manifest may not exist yet."""

    permanent = True

    def get_redirect_url(self, *args, **kwargs) -> str:
        return static("img/logo.svg")


urlpatterns = [
    path("", room_views.home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("rooms/", include("rooms.urls")),
    path("api/", include("signaling.urls")),
    path("healthz", health.healthz, name="healthz"),
    # Prometheus, with METRICS_TOKEN only; nginx's template hides it from the internet.
    path("metrics", signaling_views.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    # The language picker posts here (Django's set_language, which sets the language cookie).
    path("i18n/", include("django.conf.urls.i18n")),
    # The browser code's translations (static/js/i18n.js reads them), for the active language.
    path(
        "jsi18n/",
        JavaScriptCatalog.as_view(packages=["accounts", "rooms", "signaling"]),
        name="javascript-catalog",
    ),
    # Browsers ask for /favicon.ico on pages without an icon link (Django's admin pages).
    path("favicon.ico", FaviconRedirect.as_view(), name="favicon"),
]
