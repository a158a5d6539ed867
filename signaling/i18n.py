"""The language of a signaling socket: the one its pages are in.

A page request gets its language from ``LocaleMiddleware``; a socket has no request, so it is
chosen here once, at connect, by the same rule from the same handshake headers: the language
cookie the language picker sets (``set_language``), else the browser's ``Accept-Language``, else
``LANGUAGE_CODE``, all among ``LANGUAGES``. The consumer renders the messages it sends (error
frames, refusals) inside ``translation.override(language)``; nothing on the relay path does.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from django.http import parse_cookie
from django.utils import translation


def socket_language(scope: dict[str, Any]) -> str:
    """The language code (one of ``LANGUAGES``) for the socket of this ASGI ``scope``.

    ``scope["cookies"]`` is read when Channels' ``CookieMiddleware`` has filled it, else the
    ``Cookie`` header itself (the origin check runs before that middleware).
    """
    accept_language = ""
    cookie_header = ""
    for name, value in scope.get("headers") or ():
        if name == b"accept-language":
            accept_language = value.decode("latin-1")
        elif name == b"cookie":
            cookie_header = value.decode("latin-1")
    cookies = scope.get("cookies")
    if cookies is None:
        cookies = parse_cookie(cookie_header)
    # Django's own rule reads only these two attributes of a request.
    request = SimpleNamespace(COOKIES=cookies, META={"HTTP_ACCEPT_LANGUAGE": accept_language})
    return translation.get_language_from_request(request)
