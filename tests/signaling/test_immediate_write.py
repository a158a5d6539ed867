"""A WebSocket's TCP transport sends at once when nothing is queued, and queues in order after.

A real ``twisted.internet.tcp.Connection`` on one end of a socket pair, with a reactor that only
records which sockets were registered for writing (what the real one would then wait on).
"""

from __future__ import annotations

import socket

import pytest
from twisted.internet import tcp
from twisted.internet.protocol import Protocol
from twisted.protocols.policies import ProtocolWrapper, WrappingFactory

from signaling import immediate_write


class RecordingReactor:
    def __init__(self) -> None:
        self.writers: list = []

    def addWriter(self, writer) -> None:  # noqa: N802 - Twisted's name
        if writer not in self.writers:  # as a real reactor: registered once
            self.writers.append(writer)

    def removeWriter(self, writer) -> None:  # noqa: N802 - Twisted's name
        if writer in self.writers:
            self.writers.remove(writer)

    def addReader(self, reader) -> None:  # noqa: N802 - Twisted's name
        pass

    def removeReader(self, reader) -> None:  # noqa: N802 - Twisted's name
        pass


@pytest.fixture
def pair():
    ours, theirs = socket.socketpair()
    reactor = RecordingReactor()
    connection = tcp.Connection(ours, Protocol(), reactor=reactor)
    connection.connected = True
    theirs.settimeout(2)
    yield connection, theirs, reactor
    ours.close()
    theirs.close()


def read_exactly(sock: socket.socket, size: int) -> bytes:
    chunks, got = [], 0
    while got < size:
        chunk = sock.recv(size - got)
        assert chunk, "closed"
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def test_twisted_alone_queues_a_frame_and_waits_for_the_loop(pair):
    # What this module changes: without it, nothing is sent until the loop's next turn.
    connection, theirs, reactor = pair
    connection.write(b"frame")
    assert reactor.writers == [connection]
    theirs.setblocking(False)
    with pytest.raises(BlockingIOError):
        theirs.recv(16)


def test_a_frame_leaves_at_once_without_registering_for_writing(pair):
    connection, theirs, reactor = pair
    assert immediate_write.install(connection)
    connection.write(b"frame one")
    connection.write(b"frame two")
    assert read_exactly(theirs, 18) == b"frame oneframe two"
    assert reactor.writers == []
    assert connection.dataBuffer == b"" and connection._tempDataLen == 0


def test_what_the_kernel_does_not_take_is_queued_and_sent_in_order(pair):
    connection, theirs, reactor = pair
    assert immediate_write.install(connection)
    frames = [bytes([n % 256]) * 65536 for n in range(64)]  # 4 MiB: more than a socket holds
    for frame in frames:
        connection.write(frame)
    assert reactor.writers == [connection]
    assert connection._tempDataLen > 0  # queued: signaling.backpressure counts these
    expected = b"".join(frames)
    received = bytearray()
    while len(received) < len(expected):
        received += theirs.recv(1 << 20)
        if reactor.writers:
            connection.doWrite()  # the loop's turn once the socket takes more
    assert bytes(received) == expected
    assert reactor.writers == []
    # Empty again: the next frame leaves at once.
    connection.write(b"after")
    assert read_exactly(theirs, 5) == b"after"


def test_nothing_is_sent_once_the_connection_is_closing(pair):
    connection, theirs, reactor = pair
    assert immediate_write.install(connection)
    connection.disconnecting = True
    connection.write(b"late")
    assert reactor.writers == [connection]  # Twisted's own path decides what happens to it


def test_a_broken_socket_is_left_to_twisted(pair):
    connection, theirs, reactor = pair
    assert immediate_write.install(connection)
    theirs.close()
    connection.write(b"x" * 100_000)  # EPIPE or a partial send: never raised from write
    assert reactor.writers == [connection]


def test_the_tcp_connection_is_found_under_a_wrapping_transport():
    ours, theirs = socket.socketpair()
    try:
        connection = tcp.Connection(ours, Protocol(), reactor=RecordingReactor())
        wrapper = ProtocolWrapper(WrappingFactory(None), Protocol())
        wrapper.makeConnection(connection)
        assert immediate_write.tcp_connection(wrapper) is connection
        assert immediate_write.install(wrapper)
    finally:
        ours.close()
        theirs.close()


def test_a_tls_connection_keeps_twisteds_write(pair):
    connection, _, _ = pair
    connection.TLS = True
    assert not immediate_write.install(connection)
    assert "write" not in vars(connection)


def test_the_twisted_internals_it_relies_on_are_still_there(pair):
    connection, _, _ = pair
    for name in ("socket", "dataBuffer", "offset", "_tempDataLen", "_writeDisconnected", "TLS"):
        assert hasattr(connection, name), name
