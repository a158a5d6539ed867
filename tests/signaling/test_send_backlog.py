"""A client that never reads: the server drops it past ``SOCKET_SEND_BUFFER_MAX_BYTES`` of unsent
frames instead of buffering for it without bound (signaling/backpressure.py).

A raw TCP client completes the WebSocket handshake with a tiny receive buffer and then never
reads, while the other peers of its room relay large offers to it against a live daphne. Every
loop is bounded in frames and in time.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import socket
import time
from pathlib import Path

import pytest

from tests.signaling.test_multiprocess import Client

pytestmark = [pytest.mark.slow]

CAP_BYTES = 1024 * 1024
# An offer as large as a frame may be (64 KiB with its envelope).
BIG_OFFER = {"type": "offer", "sdp": "v=0\r\n" + "a=x" * 20_000}
FLOODERS = ("ana", "bob", "cy")
# The flood guard allows a burst of 120 frames, then 40 a second; the flooders stay below it.
FRAMES_PER_SECOND = 30
# Without the cap the flood below would pile up about this much in the server's memory.
OFFERED_BYTES_MAX = 120 * 1024 * 1024
FLOOD_SECONDS_MAX = 40


def _rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def _open_silent_client(process, slug: str, session: str) -> socket.socket:
    """A socket that completes the handshake and then never reads (tiny receive buffer)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(5)
    sock.connect(("127.0.0.1", process.port))
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET /ws/rooms/{slug}/ HTTP/1.1\r\n"
        f"Host: localhost:{process.port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Origin: {process.base_url}\r\n"
        f"Cookie: sessionid={session}\r\n\r\n"
    )
    sock.sendall(request.encode())
    response = b""
    while b"\r\n\r\n" not in response and len(response) < 8192:
        response += sock.recv(1)
    assert response.startswith(b"HTTP/1.1 101"), response
    return sock


def _closed_by_server(sock: socket.socket, read_limit: int) -> bool:
    """Read what is left; True if the server reset or closed the connection within the limit."""
    sock.settimeout(2)
    received = 0
    try:
        while received <= read_limit:
            chunk = sock.recv(65536)
            if not chunk:
                return True
            received += len(chunk)
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return False


async def _drain(client: Client, frames: list[dict]) -> None:
    with contextlib.suppress(Exception):
        while True:
            frames.append(json.loads(await client.socket.recv()))


async def _flood(client: Client, target: str, deadline: float, offered: list[int]) -> None:
    frame = json.dumps({"type": "sdp", "to": target, "description": BIG_OFFER})
    while time.monotonic() < deadline and sum(offered) < OFFERED_BYTES_MAX:
        await client.socket.send(frame)
        offered.append(len(frame))
        await asyncio.sleep(1 / FRAMES_PER_SECOND)


async def test_a_client_that_never_reads_is_dropped_at_the_cap(live_servers):
    servers = live_servers(extra_env={"SOCKET_SEND_BUFFER_MAX_BYTES": str(CAP_BYTES)})
    sessions = servers.create_users(*FLOODERS, "dee")
    slug = servers.create_room("ana", "Weekly Sync")
    process = servers.processes[0]
    flooders = [await Client.open(servers, 0, slug, sessions[name]) for name in FLOODERS]
    silent = await asyncio.to_thread(_open_silent_client, process, slug, sessions["dee"])
    for flooder in flooders:
        for _ in range(len(FLOODERS)):
            joined = await flooder.receive(timeout=5)
            if joined["peer"]["user"]["username"] == "dee":
                break
    silent_peer = joined["peer"]["peer_id"]
    received: list[list[dict]] = [[] for _ in flooders]
    drains = [
        asyncio.create_task(_drain(flooder, frames))
        for flooder, frames in zip(flooders, received, strict=True)
    ]
    rss_before = _rss_bytes(process.process.pid)

    offered: list[int] = []
    deadline = time.monotonic() + FLOOD_SECONDS_MAX

    def silent_peer_left() -> bool:
        return any(
            frame.get("type") == "peer-left" and frame.get("peer_id") == silent_peer
            for frames in received
            for frame in frames
        )

    floods = [
        asyncio.create_task(_flood(flooder, silent_peer, deadline, offered)) for flooder in flooders
    ]
    while not silent_peer_left() and not all(f.done() for f in floods):
        await asyncio.sleep(0.1)
    for flood in floods:
        flood.cancel()
    rss_after = _rss_bytes(process.process.pid)

    # The server dropped the silent client and told the room it left; the flooders stayed.
    assert silent_peer_left(), f"not dropped after {sum(offered)} bytes offered"
    assert await asyncio.to_thread(_closed_by_server, silent, 16 * CAP_BYTES)
    left = next(f for f in received[0] if f.get("type") == "peer-left")
    assert left["reason"] == "connection-lost"
    # What the server held for it stayed near the cap, far below what was offered.
    assert rss_after - rss_before < 40 * 1024 * 1024, (rss_before, rss_after, sum(offered))
    for flooder in flooders:
        await flooder.send({"type": "ping"})
    await asyncio.sleep(0.5)
    assert all(any(f.get("type") == "pong" for f in frames) for frames in received)
    for drain in drains:
        drain.cancel()
    silent.close()
    await asyncio.gather(*(flooder.socket.close() for flooder in flooders))
