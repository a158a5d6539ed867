"""A real coturn ``turnserver`` on 127.0.0.1 for tests, started and stopped by the suite.

Typical use::

    with Coturn(tmp_path, secrets=["new-secret", "old-secret"]) as turn:
        turn.url       # "turn:127.0.0.1:PORT?transport=udp"
        turn.secret    # the first secret, the one the app signs with
        turn.address   # ("127.0.0.1", PORT) for aioice's create_turn_endpoint

The test configuration relays between loopback addresses (``allow-loopback-peers``), which a
production server must never do; ``no-cli`` sits beside it because coturn refuses loopback
peers while its CLI has an empty password. Everything coturn writes (its SQLite user database,
pid file and log) stays inside the given folder. The process runs in its own process group and
is stopped by its PID, so nothing else on the machine is touched.

``Coturn(tmp_path, config=TEXT, port=P)`` runs a configuration of your own instead (the
production template test does this); ``port`` must be the ``listening-port`` in ``TEXT``, and
``host`` (default 127.0.0.1, or ``"::1"``) an address it listens on.

``relay_round_trip()`` and ``allocation_error()`` at the bottom are a fast TURN client (aioice):
the first proves a credential opens a relay that carries data both ways, the second returns the
error code coturn refuses an allocation with (401 for a bad credential), or None.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import struct
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from aioice.stun import TransactionFailed
from aioice.turn import create_turn_endpoint

from tests.support import tools
from tests.support.processes import ManagedServer, port_is_free

HOST = "127.0.0.1"
REALM = "meet.test"
RELAY_PORT_COUNT = 16
STARTUP_TIMEOUT = 15.0
CLIENT_TIMEOUT = 5.0

# A STUN Binding request (RFC 8489): type 0x0001, no attributes, the magic cookie, and a
# transaction id. coturn answers it on its listening port once it is ready, without credentials.
_STUN_MAGIC_COOKIE = 0x2112A442


def _stun_binding_request(transaction_id: bytes) -> bytes:
    return struct.pack("!HHI", 0x0001, 0, _STUN_MAGIC_COOKIE) + transaction_id


def free_listening_port() -> int:
    """A port free for both UDP and TCP, because coturn listens on both."""
    for _attempt in range(100):
        port = tools.free_udp_port()
        if port_is_free(port, host=HOST):
            return port
    raise RuntimeError("no port is free for both UDP and TCP on 127.0.0.1")


def free_udp_range(count: int = RELAY_PORT_COUNT) -> tuple[int, int]:
    """A run of ``count`` free UDP ports for relays, below Linux's ephemeral range.

    Staying under 32768 keeps the range clear of the ports the kernel hands out to clients.
    """
    for _attempt in range(200):
        first = random.randrange(20000, 32000 - count)
        if all(port_is_free(port, udp=True, host=HOST) for port in range(first, first + count)):
            return first, first + count - 1
    raise RuntimeError(f"no run of {count} free UDP ports found on {HOST}")


class Coturn(ManagedServer):
    """One ``turnserver`` process with a configuration written into ``workdir``."""

    def __init__(
        self,
        workdir: Path,
        *,
        secrets: Sequence[str] = ("coturn-test-secret",),
        realm: str = REALM,
        config: str | None = None,
        port: int | None = None,
        host: str = HOST,
        extra_lines: Sequence[str] = (),
    ) -> None:
        if config is not None and port is None:
            raise ValueError("a custom config needs the port it listens on")
        if config is None and not secrets:
            raise ValueError("coturn needs at least one static-auth-secret")
        self.workdir = Path(workdir)
        self.secrets = list(secrets)
        self.realm = realm
        self.host = host
        self.port = port or free_listening_port()
        self.min_port, self.max_port = free_udp_range()
        self._custom_config = config
        self._extra_lines = list(extra_lines)
        self.config_path = self.workdir / "turnserver.conf"
        self.log_path = self.workdir / "turnserver.log"
        self.process: subprocess.Popen | None = None

    # -- what clients need ----------------------------------------------------------------------

    @property
    def secret(self) -> str:
        """The signing secret: the first one, as ``TURN_SECRET``'s first entry is."""
        return self.secrets[0]

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    @property
    def host_in_url(self) -> str:
        return f"[{self.host}]" if ":" in self.host else self.host

    @property
    def url(self) -> str:
        return f"turn:{self.host_in_url}:{self.port}?transport=udp"

    @property
    def tcp_url(self) -> str:
        return f"turn:{self.host_in_url}:{self.port}?transport=tcp"

    @property
    def stun_url(self) -> str:
        return f"stun:{self.host_in_url}:{self.port}"

    def settings(self) -> dict[str, object]:
        """Django settings that point the app at this server (for ``override_settings``)."""
        return {"TURN_SECRETS": list(self.secrets), "TURN_URLS": [self.url, self.tcp_url]}

    def environment(self) -> dict[str, str]:
        """The same as environment variables, for live daphne servers (``extra_env``)."""
        return {"TURN_SECRET": ",".join(self.secrets), "TURN_URLS": f"{self.url},{self.tcp_url}"}

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    # -- configuration --------------------------------------------------------------------------

    def config_text(self) -> str:
        """The loopback test configuration (or the custom one given to the constructor)."""
        if self._custom_config is not None:
            return self._custom_config
        lines = [
            f"listening-ip={self.host}",
            f"relay-ip={self.host}",
            f"listening-port={self.port}",
            f"min-port={self.min_port}",
            f"max-port={self.max_port}",
            "fingerprint",
            "use-auth-secret",
            *(f"static-auth-secret={secret}" for secret in self.secrets),
            f"realm={self.realm}",
            "no-tls",
            "no-dtls",
            # Both ends of every test relay are 127.0.0.1, which production rightly denies.
            "allow-loopback-peers",
            "no-cli",
            "no-rfc5780",
            f"userdb={self.workdir / 'turndb.sqlite'}",
            f"pidfile={self.workdir / 'turnserver.pid'}",
            f"log-file={self.log_path}",
            "simple-log",
            "no-stdout-log",
            *self._extra_lines,
        ]
        return "\n".join(lines) + "\n"

    # -- lifecycle ------------------------------------------------------------------------------

    output_name = "turnserver.stdout"

    def prepare(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(self.config_text())

    def command(self) -> list[str]:
        return [tools.turnserver_path(), "-c", str(self.config_path)]

    def wait_until_answering(self) -> None:
        """Wait until a STUN Binding request on the listening port gets an answer."""
        deadline = time.monotonic() + STARTUP_TIMEOUT
        transaction_id = os.urandom(12)
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.settimeout(0.1)
            while time.monotonic() < deadline:
                if self.process is None or self.process.poll() is not None:
                    code = None if self.process is None else self.process.returncode
                    raise RuntimeError(
                        f"turnserver exited with {code} before answering:\n{self.output_text()}"
                    )
                sock.sendto(_stun_binding_request(transaction_id), self.address)
                try:
                    data, _ = sock.recvfrom(2048)
                except (TimeoutError, ConnectionRefusedError):
                    continue
                # A success response (0x0101) to our transaction means the listener works.
                if len(data) >= 20 and data[:2] == b"\x01\x01" and data[8:20] == transaction_id:
                    return
        raise RuntimeError(f"turnserver did not answer on {self.address}:\n{self.output_text()}")

    def output_text(self, *logs: Path) -> str:
        """Everything coturn printed: its standard output, then its log file."""
        return super().output_text(self.log_path, *logs)


# --- a fast TURN client for tests (aioice) ---------------------------------------------------


class Inbox(asyncio.DatagramProtocol):
    """Collects datagrams; a relay's ``connection_lost`` marks its allocation as deleted."""

    def __init__(self) -> None:
        self.datagrams: asyncio.Queue[tuple[bytes, tuple[str, int]]] = asyncio.Queue()
        self.closed = asyncio.Event()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.datagrams.put_nowait((data, addr))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set()


async def relay_round_trip(turn: Coturn, username: str, password: str, transport: str) -> None:
    """Allocate a relay, send a datagram through it to a plain UDP socket and get the answer."""
    relay, relay_inbox = await asyncio.wait_for(
        create_turn_endpoint(
            Inbox,
            server_addr=turn.address,
            username=username,
            password=password,
            transport=transport,
        ),
        CLIENT_TIMEOUT,
    )
    loop = asyncio.get_running_loop()
    peer, peer_inbox = await loop.create_datagram_endpoint(Inbox, local_addr=("127.0.0.1", 0))
    try:
        relayed_address = relay.get_extra_info("sockname")
        assert relayed_address[1] in range(turn.min_port, turn.max_port + 1)

        # Sending to the peer makes aioice bind a channel, which also creates the permission.
        relay.sendto(b"out through the relay", peer.get_extra_info("sockname"))
        data, source = await asyncio.wait_for(peer_inbox.datagrams.get(), CLIENT_TIMEOUT)
        assert data == b"out through the relay"
        assert source == relayed_address, "the datagram must come from coturn's relay port"

        peer.sendto(b"back through the relay", relayed_address)
        data, source = await asyncio.wait_for(relay_inbox.datagrams.get(), CLIENT_TIMEOUT)
        assert data == b"back through the relay"
        assert source == peer.get_extra_info("sockname")
    finally:
        peer.close()
        relay.close()
        await asyncio.wait_for(relay_inbox.closed.wait(), CLIENT_TIMEOUT)


async def allocation_error(turn: Coturn, username: str, password: str) -> int | None:
    """The error code coturn answers an Allocate with, or None when it grants the relay."""
    try:
        relay, inbox = await asyncio.wait_for(
            create_turn_endpoint(
                Inbox, server_addr=turn.address, username=username, password=password
            ),
            CLIENT_TIMEOUT,
        )
    except TransactionFailed as exc:
        return exc.response.attributes["ERROR-CODE"][0]
    relay.close()
    await asyncio.wait_for(inbox.closed.wait(), CLIENT_TIMEOUT)
    return None
