"""Logs without secrets: the access log, and a filter that redacts URL query values.

Invite tokens (`/rooms/<slug>/?invite=`, also inside the login page's `?next=`) and resume
tokens (`/ws/rooms/<slug>/?resume=`) travel in query strings, and a log is read by more people,
and kept longer, than the tokens are meant to be. daphne's own access log writes each URL whole,
so `./run` turns it off (`-v 0`) and `AccessLogMiddleware` writes one instead, with every query
value replaced; `RedactQueryValues` does the same to any other log line that quotes a URL.
`RedactSecrets` blanks extra fields named like secrets and any SDP or ICE candidate quoted in a
line, and `JsonLinesFormatter` writes one JSON object per line (`LOG_FORMAT=json`).
"""

from __future__ import annotations

import json
import logging
import re
import time
from datetime import UTC, datetime

REDACTED = "[redacted]"

access_logger = logging.getLogger("meet.access")

# A "?" right after a path character starts a query string, up to the next space or quote;
# a "?" after a space or a bracket (SQL placeholders, prose) is left alone.
URL_QUERY = re.compile(r"(?<=[\w/.%~-])\?([^\s\"'<>]+)")


def redact_query(query: str) -> str:
    """``query`` (without its "?") with each value replaced by ``[redacted]``; names are kept."""
    parts = []
    for part in query.split("&"):
        if not part:
            continue
        name, has_value, _ = part.partition("=")
        # A bare part (`?abc123`) may itself be the secret.
        parts.append(f"{name}={REDACTED}" if has_value else REDACTED)
    return "&".join(parts)


def redact_urls(text: str) -> str:
    """``text`` with the query values of every URL in it redacted."""
    return URL_QUERY.sub(lambda match: "?" + redact_query(match.group(1)), text)


class RedactQueryValues(logging.Filter):
    """A handler filter: every record leaves with its URLs' query values redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed call is reported by the handler, as ever
            return True
        redacted = redact_urls(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def _target(scope) -> str:
    query = scope.get("query_string", b"").decode("latin-1")
    return scope.get("path", "") + ("?" + redact_query(query) if query else "")


def _client(scope) -> str:
    # The address Django sees as REMOTE_ADDR: the connection's own, or, when daphne runs with
    # --proxy-headers (DJANGO_BEHIND_PROXY), the one the proxy put in X-Forwarded-For.
    client = scope.get("client")
    return f"{client[0]}:{client[1]}" if client else "-"


class AccessLogMiddleware:
    """ASGI middleware: one `meet.access` line per HTTP response and per socket open and close.

    HTTP: ``client "METHOD /path?name=[redacted]" status bytes duration``. WebSocket:
    ``WSCONNECT`` when the app accepts, ``WSREJECT`` when it closes before accepting and
    ``WSDISCONNECT`` with the close code when the socket ends.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            return await self._http(scope, receive, send)
        if scope["type"] == "websocket":
            return await self._websocket(scope, receive, send)
        return await self.app(scope, receive, send)

    async def _http(self, scope, receive, send):
        started = time.monotonic()
        status, size = 0, 0

        async def send_and_log(message):
            nonlocal status, size
            await send(message)
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
                if not message.get("more_body", False):
                    access_logger.info(
                        '%s "%s %s" %s %s %.0fms',
                        _client(scope),
                        scope.get("method", "-"),
                        _target(scope),
                        status,
                        size,
                        (time.monotonic() - started) * 1000,
                    )

        return await self.app(scope, receive, send_and_log)

    async def _websocket(self, scope, receive, send):
        accepted = False

        async def send_and_log(message):
            nonlocal accepted
            await send(message)
            if message["type"] == "websocket.accept":
                accepted = True
                access_logger.info('%s "WSCONNECT %s"', _client(scope), _target(scope))
            elif message["type"] == "websocket.close" and not accepted:
                access_logger.info('%s "WSREJECT %s"', _client(scope), _target(scope))

        async def receive_and_log():
            message = await receive()
            if message["type"] == "websocket.disconnect":
                access_logger.info(
                    '%s "WSDISCONNECT %s" %s',
                    _client(scope),
                    _target(scope),
                    message.get("code", "-"),
                )
            return message

        return await self.app(scope, receive_and_log, send_and_log)


# --- JSON lines, and secrets kept out of every field ---------------------------------------------

# Extra fields (``logger.info(..., extra={...})``) whose name says they may carry a secret or
# what a call negotiates: SDP (a "description"), ICE candidates, resume, invite and session
# tokens, TURN passwords and credentials. Their values never reach a log line.
SECRET_FIELD = re.compile(
    r"sdp|description|candidate|token|invite|session|password|passwd|secret|credential"
    r"|cookie|authorization|api_?key",
    re.IGNORECASE,
)
# SDP and ICE candidates quoted inside a message: from "v=0" (an SDP's first line, written with
# real or escaped line breaks) or an ICE "candidate:<foundation> <component>" up to the end of
# the quote or line.
SDP_OR_CANDIDATE = re.compile(
    r"v=0(?:\r?\n|\\r\\n|\\n).*?(?=[\"'}]|$)|(?:a=)?candidate:\S+ \d+ [^\"'}\n]*",
    re.IGNORECASE | re.DOTALL,
)

# What every LogRecord has; anything else on a record was passed with ``extra``.
_RECORD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}


def redact_text(text: str) -> str:
    """``text`` without URL query values, SDP or ICE candidates."""
    return SDP_OR_CANDIDATE.sub(REDACTED, redact_urls(text))


def redact_value(value, name: str = ""):
    """``value`` (an extra field, or anything inside one) with secrets replaced by ``[redacted]``.

    A field named like a secret loses its whole value; strings lose URL query values, SDP and
    candidates; mappings and sequences are redacted item by item, by their keys too.
    """
    if name and SECRET_FIELD.search(name):
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {key: redact_value(item, str(key)) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(item) for item in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    # Anything else (a request, a user) is logged as its text, redacted like any other.
    return redact_text(str(value))


class RedactSecrets(logging.Filter):
    """A handler filter: extra fields and mapping arguments leave without secrets.

    No log call of meet passes a frame, a token or a credential; this is the defence for the
    one that someone adds later, or that a library makes. The message itself also loses any
    SDP or ICE candidate quoted in it (``RedactQueryValues`` already took its URL query values).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in list(record.__dict__.items()):
            # Objects (a request, a user) stay as they are for the other handlers; a formatter
            # that writes them, such as JsonLinesFormatter, redacts their text.
            if name not in _RECORD_ATTRIBUTES and not name.startswith("_"):
                if SECRET_FIELD.search(name) or isinstance(value, str | dict | list | tuple):
                    record.__dict__[name] = redact_value(value, name)
        if isinstance(record.args, dict):
            record.args = redact_value(record.args)
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text when it is set, so the traceback is redacted once here
            # for every handler (an exception's message may quote what it failed on).
            record.exc_text = redact_text(logging.Formatter().formatException(record.exc_info))
        try:
            message = record.getMessage()
        except Exception:  # a malformed call is reported by the handler, as ever
            return True
        redacted = SDP_OR_CANDIDATE.sub(REDACTED, message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per line (``LOG_FORMAT=json``): time, level, logger, message, extras.

    ``time`` is ISO 8601 in UTC; an exception's traceback is the ``exception`` field. A line
    break inside a message is escaped by JSON, so one record is always one line.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in record.__dict__.items():
            if name not in _RECORD_ATTRIBUTES and not name.startswith("_") and name not in entry:
                entry[name] = redact_value(value, name)
        if record.exc_text:
            entry["exception"] = record.exc_text
        elif record.exc_info:
            entry["exception"] = redact_text(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)
