"""ASGI entry point: HTTP through Django, WebSockets through the signaling consumer."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "meet.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.sessions import CookieMiddleware  # noqa: E402

from meet.logs import AccessLogMiddleware  # noqa: E402
from signaling import autobahn_debug, backpressure, restart  # noqa: E402
from signaling.auth import DeferredAuthMiddleware  # noqa: E402
from signaling.origin import OriginValidator  # noqa: E402
from signaling.routing import websocket_urlpatterns  # noqa: E402
from signaling.sessions import WebSocketSessionMiddleware  # noqa: E402

# daphne must not buffer without bound for a client that does not read: see the module.
backpressure.install()
# A worker asked to stop tells its sockets to resume on another worker at once.
restart.install()
# autobahn's debug lines (per socket, per frame) cost nothing unless written.
autobahn_debug.install()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # The whole origin (scheme, host and port) must be the site's own: see signaling/origin.py.
        # The user is read in the admission's own database call (signaling/auth.py).
        "websocket": OriginValidator(
            CookieMiddleware(
                WebSocketSessionMiddleware(DeferredAuthMiddleware(URLRouter(websocket_urlpatterns)))
            )
        ),
    }
)

# The access log (with query values redacted) wraps everything, so refused sockets are logged too.
application = AccessLogMiddleware(application)
