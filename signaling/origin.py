"""The signaling socket's ``Origin`` rule: only the site's own pages may open a socket.

A browser sends the session cookie with a WebSocket handshake whatever page opened it, and the
handshake is not subject to the same-origin policy, so a page on any other origin could join the
victim's room as the victim (cross-site WebSocket hijacking). Channels'
``AllowedHostsOriginValidator`` compares host names only: a page on ``http://127.0.0.1:6666``
passed for a site on ``http://127.0.0.1:8000``. Here the whole origin counts, as Django's CSRF
check counts it for a POST: scheme, host and port.

Allowed are the request's own origin (its ``Host``, when that host is in ``ALLOWED_HOSTS``; the
scheme ``https`` for ``wss``, or behind a proxy when ``SECURE_PROXY_SSL_HEADER`` says so, else
``http``) and the entries of ``CSRF_TRUSTED_ORIGINS`` (with Django's ``https://*.example.org``
subdomain patterns). Anything else, ``null`` and a missing ``Origin`` included, is refused before
the session is even read.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http.request import validate_host
from django.utils import translation
from django.utils.http import is_same_domain
from django.utils.translation import gettext_lazy as _

from signaling import metrics
from signaling.i18n import socket_language
from signaling.wire import CLOSE_FORBIDDEN, FORBIDDEN, error_frame

ORIGIN_REFUSED_MESSAGE = _("This page's origin is not allowed to open a socket to this site.")
DEFAULT_PORTS = {"http": "80", "https": "443"}
# The host syntax Django accepts in a Host header: a name or a bracketed IPv6 address, then an
# optional port. Unlike Django's split_domain_port, a trailing dot is kept: to a browser
# ``localhost.`` is another origin.
HOST_PATTERN = re.compile(r"([a-z0-9.-]+|\[[a-f0-9]*:[a-f0-9.:]+\])(?::([0-9]{1,5}))?")
# Django's own fallback when DEBUG is on and ALLOWED_HOSTS is empty (HttpRequest.get_host).
DEBUG_ALLOWED_HOSTS = [".localhost", "127.0.0.1", "[::1]"]

Origin = tuple[str, str, str]  # scheme, host (lowercase, IPv6 in brackets), port (never empty)


def _origin_parts(*, scheme: str, netloc: str) -> Origin | None:
    match = HOST_PATTERN.fullmatch(netloc.lower())
    if scheme not in DEFAULT_PORTS or match is None:
        return None
    host, port = match.group(1), match.group(2) or DEFAULT_PORTS[scheme]
    if not host or int(port) > 65535:
        return None
    return scheme, host, str(int(port))


def origin_parse(origin: str) -> Origin | None:
    """An ``Origin`` header as (scheme, host, port), or None unless it is a plain http(s) origin.

    ``null``, a path, user info, another scheme or a malformed port are all None.
    """
    try:
        parsed = urlsplit(origin)
    except ValueError:
        return None
    if parsed.path or parsed.query or parsed.fragment or "@" in parsed.netloc:
        return None
    return _origin_parts(scheme=parsed.scheme.lower(), netloc=parsed.netloc)


def _headers(scope: dict[str, Any]) -> dict[bytes, list[str]]:
    headers: dict[bytes, list[str]] = {}
    for name, value in scope.get("headers") or []:
        headers.setdefault(name.lower(), []).append(value.decode("latin-1"))
    return headers


def _request_scheme(*, scope: dict[str, Any], headers: dict[bytes, list[str]]) -> str:
    """``https`` or ``http``, decided as Django's ``HttpRequest.scheme`` decides it."""
    proxy_header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy_header:
        meta_name, secure_value = proxy_header
        name = meta_name.removeprefix("HTTP_").replace("_", "-").lower().encode("latin-1")
        if name in headers:
            # A proxy that appends to the header puts the value it saw first.
            return "https" if headers[name][0].split(",", 1)[0].strip() == secure_value else "http"
    return "https" if scope.get("scheme") == "wss" else "http"


def request_origin(scope: dict[str, Any]) -> Origin | None:
    """The handshake's own origin, or None when its host is missing or not in ``ALLOWED_HOSTS``.

    A host outside ``ALLOWED_HOSTS`` has no own origin: that is how a DNS-rebinding page, whose
    origin matches the ``Host`` it sends, is kept out.
    """
    headers = _headers(scope)
    host_header = "host"
    if settings.USE_X_FORWARDED_HOST and b"x-forwarded-host" in headers:
        host_header = "x-forwarded-host"
    hosts = headers.get(host_header.encode(), [])
    if len(hosts) != 1:
        return None
    own = _origin_parts(scheme=_request_scheme(scope=scope, headers=headers), netloc=hosts[0])
    if own is None:
        return None
    allowed_hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed_hosts:
        allowed_hosts = DEBUG_ALLOWED_HOSTS
    domain = own[1].removesuffix(".")
    return own if validate_host(domain, allowed_hosts) else None


def _trusted_origin(origin: str, parsed: Origin) -> bool:
    for trusted in settings.CSRF_TRUSTED_ORIGINS:
        trusted_parts = urlsplit(trusted)
        if "*" in trusted:
            # Django's rule: "https://*.example.org" trusts example.org and its subdomains, over
            # https only, on the port written there (none: the default one).
            if trusted_parts.scheme == parsed[0] and is_same_domain(
                urlsplit(origin).netloc.lower(), trusted_parts.netloc.lstrip("*")
            ):
                return True
        elif origin_parse(trusted) == parsed:
            return True
    return False


def socket_origin_allowed(*, scope: dict[str, Any], origin: str | None) -> bool:
    """Whether a WebSocket handshake with this ``Origin`` may go on to admission.

    Only the request's own origin and ``CSRF_TRUSTED_ORIGINS`` entries pass (see the module).
    """
    if not origin:
        return False
    parsed = origin_parse(origin)
    if parsed is None:
        return False
    return parsed == request_origin(scope) or _trusted_origin(origin, parsed)


class OriginValidator:
    """ASGI middleware: a socket from a foreign origin is refused before anything else runs.

    The refusal is a protocol refusal the client understands (``error`` ``forbidden``, close
    4403) rather than a failed handshake, which a browser reports as a bare 1006.
    """

    def __init__(self, application) -> None:
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket":
            origins = _headers(scope).get(b"origin", [])
            origin = origins[0] if len(origins) == 1 else None
            if not socket_origin_allowed(scope=scope, origin=origin):
                return await _refuse_foreign_origin(scope, receive, send)
        return await self.application(scope, receive, send)


async def _refuse_foreign_origin(scope, receive, send) -> None:
    # Nothing but the refusal: no session, no user, no channel layer, no database.
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    with translation.override(socket_language(scope)):
        frame = error_frame(code=FORBIDDEN, message=ORIGIN_REFUSED_MESSAGE)
    # A refused admission like any other, for the metrics, though it never reached one.
    metrics.admission_counted(refusal=FORBIDDEN)
    metrics.error_sent(code=FORBIDDEN)
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.send", "text": json.dumps(frame)})
    await send({"type": "websocket.close", "code": CLOSE_FORBIDDEN})
