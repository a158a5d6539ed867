"""autobahn's debug lines, made cheap: nothing is formatted unless a debug line is written.

autobahn builds the values of its debug log lines before calling the logger, whether debug
logging is on or not, and two of those lines run on every WebSocket frame:

- on every new WebSocket it pretty-prints its whole configuration, 29 settings, with
  ``pprint.pformat``: 300 µs of the server's CPU per socket on the benchmark's machine, 3 to 5 %
  of a join in a join storm (issue #14). ``repr`` gives the same content on one line in a tenth
  of the time. autobahn uses ``pformat`` in that module only for debug text (that line, the
  timings' ``__str__`` and a transport's details), so nothing else changes.
- on every frame received (``dataReceived``) and every frame sent (``sendData``) it colours the
  method's name and the peer's address for a debug line with ``hltype``/``hlval`` (``click.style``
  under them): 4 to 5 % of the server's CPU while relaying (py-spy, ``./run bench`` with two
  processes over Redis, 2026-12-03). Here those two names, in the two modules that call them
  per frame, return a small object that does the same colouring only when the line is
  formatted, i.e. written: the text of a written line is unchanged.

Installed by ``meet.asgi`` with the other daphne adjustments. autobahn's version is bounded in
``pyproject.toml``; ``tests/signaling/test_autobahn_debug.py`` fails when the lines it targets
are gone (then this module, or that part of it, can go).
"""

from __future__ import annotations

from autobahn import util as autobahn_util
from autobahn.twisted import websocket as autobahn_twisted_websocket
from autobahn.websocket import protocol as autobahn_protocol

# The modules whose per-frame debug lines call ``hltype``/``hlval`` (imported by name there).
PER_FRAME_MODULES = (autobahn_protocol, autobahn_twisted_websocket)


class DeferredText:
    """The text ``make()`` returns, computed when formatted (then kept)."""

    __slots__ = ("_make", "_text")

    def __init__(self, make) -> None:
        self._make = make
        self._text: str | None = None

    def __str__(self) -> str:
        if self._text is None:
            self._text = self._make()
        return self._text

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __repr__(self) -> str:
        return repr(str(self))


def deferred_hltype(obj) -> DeferredText:
    return DeferredText(lambda: autobahn_util.hltype(obj))


def deferred_hlval(val, color: str = "white", bold: bool = True) -> DeferredText:
    return DeferredText(lambda: autobahn_util.hlval(val, color=color, bold=bold))


def install() -> None:
    """Make autobahn's debug values cost nothing until written (idempotent)."""
    autobahn_protocol.pformat = repr
    for module in PER_FRAME_MODULES:
        module.hltype = deferred_hltype
        module.hlval = deferred_hlval
