"""Graceful restarts: a worker asked to stop tells each of its sockets to resume elsewhere, now.

A rolling restart (``systemctl restart meet@8001``, then ``meet@8002``) sends the worker SIGTERM.
Without this, daphne cancels its consumers and the connections simply drop: browsers see an
abnormal close (1006) and reconnect after their back-off. Here, when Twisted begins to shut
down, every open WebSocket of this process is sent a close frame with ``CLOSE_SERVICE_RESTART``
(4503: "this server is restarting, come back at once"), and shutdown waits up to
``RESTART_GRACE_SECONDS`` for the closing handshakes. The client reconnects without delay, the
proxy sends it to a worker that is still up, and the socket resumes as the same peer (its
participant row is resumable for ``RESUME_WINDOW_SECONDS``). Media never stops: it flows peer to
peer or through the SFU, not through the worker.

autobahn lets an application close only with 1000 or 3000–4999, so the standard 1012 ("service
restart") cannot be used; 4503 mirrors HTTP's 503. This builds on ``signaling.backpressure``'s
daphne protocol (same pin, same things to re-check on a daphne upgrade), and on Twisted's
``reactor.addSystemEventTrigger("before", "shutdown", ...)``, which daphne itself uses.
"""

from __future__ import annotations

import logging
import sys
import weakref

from daphne.ws_protocol import WebSocketFactory
from twisted.internet import defer

from signaling.backpressure import CappedWebSocketProtocol
from signaling.wire import CLOSE_SERVICE_RESTART

logger = logging.getLogger(__name__)

RESTART_GRACE_SECONDS = 2.0

_open_sockets: weakref.WeakSet = weakref.WeakSet()


class RestartableWebSocketProtocol(CappedWebSocketProtocol):
    """daphne's WebSocket protocol (with the send cap) that knows the sockets that are open."""

    closed_for_restart: defer.Deferred | None = None

    def onOpen(self):  # noqa: N802 - autobahn's name
        _open_sockets.add(self)
        return super().onOpen()

    def onClose(self, wasClean, code, reason):  # noqa: N802,N803 - autobahn's names
        _open_sockets.discard(self)
        if self.closed_for_restart is not None and not self.closed_for_restart.called:
            self.closed_for_restart.callback(None)
        super().onClose(wasClean, code, reason)


def close_sockets_for_restart() -> defer.Deferred:
    """Send every open socket ``CLOSE_SERVICE_RESTART``; fires when all closed or on timeout."""
    waiting = []
    for protocol in list(_open_sockets):
        protocol.closed_for_restart = defer.Deferred()
        waiting.append(protocol.closed_for_restart)
        try:
            protocol.sendClose(code=CLOSE_SERVICE_RESTART, reason="server restarting")
        except Exception:  # noqa: BLE001 - a socket already going is fine
            protocol.closed_for_restart.callback(None)
    if not waiting:
        return defer.succeed(None)
    from twisted.internet import reactor

    logger.info("Restarting: asked %d sockets to resume on another worker", len(waiting))
    everything = defer.DeferredList(waiting, consumeErrors=True)
    timeout = reactor.callLater(RESTART_GRACE_SECONDS, _give_up, everything)
    everything.addBoth(lambda result: timeout.active() and timeout.cancel() or result)
    return everything


def _give_up(everything: defer.Deferred) -> None:
    if not everything.called:
        logger.warning("Restarting: some sockets did not finish closing in time")
        everything.callback(None)


_installed = False


def install() -> None:
    """Use ``RestartableWebSocketProtocol`` and close sockets on shutdown (idempotent)."""
    global _installed
    WebSocketFactory.protocol = RestartableWebSocketProtocol
    # Only under daphne, which installs Twisted's asyncio reactor before it loads the
    # application: importing the reactor anywhere else would install the wrong one.
    if not _installed and "twisted.internet.reactor" in sys.modules:
        from twisted.internet import reactor

        reactor.addSystemEventTrigger("before", "shutdown", close_sockets_for_restart)
        _installed = True
