"""A WebSocket's frames leave at once: its TCP transport sends when nothing is queued.

Twisted's TCP transport never sends in ``write``: it queues the bytes, registers the socket
with the event loop for writing (an ``epoll_ctl``), sends on a later turn of the loop and then
unregisters the socket (another ``epoll_ctl``). A signaling server sends one small frame per
relayed message, so every frame paid two extra system calls, a turn of the loop and Twisted's
dispatch around the send. asyncio's own transports (and Node's) try the send first and queue
only what the kernel did not take; a WebSocket's transport here does the same.

What stays Twisted's: anything queued (a slow reader's backlog, counted by
``signaling.backpressure``) is sent first, in order, by Twisted's ``doWrite``; an error on the
socket is left to that path too (the bytes are queued and Twisted meets the error, closing the
connection as it always did); TLS connections (daphne's own TLS endpoint) and a closing
connection keep Twisted's ``write`` unchanged.

Installed per socket by ``signaling.backpressure.CappedWebSocketProtocol`` when the WebSocket
connects. This relies on Twisted internals (``twisted.internet.tcp.Connection``'s ``socket``,
``dataBuffer``/``offset``, ``_tempDataLen``, ``_writeDisconnected``, ``TLS``), so Twisted is
pinned in ``pyproject.toml``; ``tests/signaling/test_immediate_write.py`` checks them.
"""

from __future__ import annotations

import types

from twisted.internet import tcp


def _write_now_or_queue(transport: tcp.Connection, data: bytes) -> None:
    if (
        data
        and transport.connected
        and not transport.disconnecting
        and not transport._writeDisconnected
        and not transport.TLS
        and not transport._tempDataLen
        and transport.offset == len(transport.dataBuffer)
    ):
        try:
            sent = transport.socket.send(data)
        except OSError:
            sent = 0  # Full, or broken: Twisted's doWrite meets it with the bytes queued.
        if sent == len(data):
            return
        data = data[sent:]
    tcp.Connection.write(transport, data)


def underlying(transport, kind: type):
    """The transport of type ``kind`` at or under ``transport`` (through wrapping transports,
    TLS or Twisted's protocol wrappers), if there is one."""
    seen = 0
    while transport is not None and seen < 5:
        if isinstance(transport, kind):
            return transport
        transport = getattr(transport, "transport", None)
        seen += 1
    return None


def tcp_connection(transport) -> tcp.Connection | None:
    """The TCP connection under ``transport``, if there is one."""
    return underlying(transport, tcp.Connection)


def install(transport) -> bool:
    """Make the TCP connection under ``transport`` send at once; False if there is none."""
    connection = tcp_connection(transport)
    if connection is None or connection.TLS:
        return False
    connection.write = types.MethodType(_write_now_or_queue, connection)
    return True
