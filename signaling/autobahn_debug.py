"""autobahn's per-socket debug line, made cheap: ``repr`` for ``pprint.pformat``.

On every new WebSocket, autobahn (under daphne) pretty-prints its whole configuration, 29
settings, with ``pprint.pformat`` for a debug log line, whether debug logging is on or not:
300 µs of the server's CPU per socket on the benchmark's machine, 3 to 5 % of a join in a join
storm (issue #14). ``repr`` gives the same content on one line in a tenth of the time. autobahn
uses ``pformat`` in that module only for debug text (that line, the timings' ``__str__`` and
a transport's details), so nothing else changes.

Installed by ``meet.asgi`` with the other daphne adjustments. autobahn's version is bounded in
``pyproject.toml``; ``tests/signaling/test_autobahn_debug.py`` fails when the line it targets is
gone (then this module can go).
"""

from __future__ import annotations

from autobahn.websocket import protocol as autobahn_protocol


def install() -> None:
    """Make autobahn's WebSocket module format its debug values with ``repr`` (idempotent)."""
    autobahn_protocol.pformat = repr
