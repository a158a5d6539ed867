"""A cap on what daphne buffers for one WebSocket client that does not read.

daphne hands every frame a consumer sends straight to Twisted's ``transport.write``, which
buffers without limit whatever the kernel will not take. A client that stops reading (a stalled
tab, a hostile script with a tiny receive window) in a busy room would so make the server hold
every frame relayed to it: measured with tests/signaling/test_send_backlog.py and the cap off,
three peers relaying offers to a silent client grew the server by 141 MiB in 30 seconds (with a
1 MiB cap it was dropped within a second). Here, after each frame is written, the
bytes the transport still holds are compared with ``SOCKET_SEND_BUFFER_MAX_BYTES``; past it the
TCP connection is aborted (its buffer freed at once) and the consumer's ``disconnect`` runs with
``CLOSE_SEND_BACKLOG``, so the peer leaves the room as lost and its client may resume.

Why not Twisted's producer API (``registerProducer``/``pauseProducing``): daphne's HTTP channel
stays registered as the transport's producer after the upgrade, so a second producer cannot be
registered, and a pause would only say "more than 64 KiB", not how much.

Installed by ``meet.asgi`` before daphne builds its factories. This reaches into daphne,
autobahn and Twisted internals, so daphne is pinned exactly in pyproject.toml. On upgrade,
re-check: ``daphne.ws_protocol.WebSocketFactory.protocol`` is still the class daphne builds for
each socket, its ``serverSend`` still writes each ``websocket.send`` and its ``onClose`` still
passes ``code`` on in ``websocket.disconnect``; autobahn's ``dropConnection(abort=True)`` still
aborts the transport; and ``twisted.internet.abstract.FileDescriptor`` still keeps unsent
bytes in ``dataBuffer`` (from ``offset``) and ``_tempDataLen``. ``tests/signaling/
test_send_backlog.py`` fails if any of this stops working.
"""

from __future__ import annotations

import logging

from daphne.ws_protocol import WebSocketFactory, WebSocketProtocol
from django.conf import settings
from twisted.internet.abstract import FileDescriptor

from signaling import immediate_write
from signaling.wire import CLOSE_SEND_BACKLOG

logger = logging.getLogger(__name__)


def buffered_bytes(descriptor: FileDescriptor) -> int:
    """Bytes written to Twisted's ``descriptor`` that the kernel has not taken yet."""
    return len(descriptor.dataBuffer) - descriptor.offset + descriptor._tempDataLen


class CappedWebSocketProtocol(WebSocketProtocol):
    """daphne's WebSocket protocol, dropping a client whose unsent frames pass the cap."""

    dropped_for_backlog = False
    # Read once per socket in connectionMade, not per frame: the cap (a settings read goes
    # through Django's lazy object) and Twisted's connection under any wrapping transport (TLS).
    send_buffer_limit = 0
    descriptor: FileDescriptor | None = None

    def connectionMade(self):  # noqa: N802 - Twisted's name
        # Frames leave at once instead of on the loop's next turn (signaling/immediate_write.py).
        immediate_write.install(self.transport)
        self.send_buffer_limit = settings.SOCKET_SEND_BUFFER_MAX_BYTES
        self.descriptor = immediate_write.underlying(self.transport, FileDescriptor)
        super().connectionMade()

    def serverSend(self, content, binary=False):  # noqa: N802 - daphne's name
        super().serverSend(content, binary)
        limit = self.send_buffer_limit
        if not limit or self.dropped_for_backlog or self.descriptor is None:
            return
        buffered = buffered_bytes(self.descriptor)
        if buffered > limit:
            logger.warning(
                "Dropping WebSocket client %s: %d bytes unsent (limit %d)",
                self.client_addr,
                buffered,
                limit,
            )
            self.dropped_for_backlog = True
            self.wasClean = False
            self.wasNotCleanReason = "send backlog over SOCKET_SEND_BUFFER_MAX_BYTES"
            self.dropConnection(abort=True)

    def onClose(self, wasClean, code, reason):  # noqa: N802,N803 - autobahn's names
        if self.dropped_for_backlog:
            code = CLOSE_SEND_BACKLOG
        super().onClose(wasClean, code, reason)


def install() -> None:
    """Make daphne build ``CappedWebSocketProtocol`` for every WebSocket (idempotent)."""
    WebSocketFactory.protocol = CappedWebSocketProtocol
