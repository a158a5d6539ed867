"""``deploy/coturn/turnserver.conf``: what it says, and that Debian's coturn runs it as written.

The running test changes only what a test machine must (ports, addresses, certificate, key and
file paths) on a copy of the template; every security line stays as shipped, so the relay it
starts must refuse loopback, private and metadata peers for real.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import ssl
from pathlib import Path

import pytest
from aioice import stun
from aioice.stun import TransactionFailed
from aioice.turn import UDP_TRANSPORT, TurnClientMixin, TurnClientUdpProtocol, create_turn_endpoint

from signaling.turn import turn_credential_for
from tests.support import tools
from tests.support.certificates import write_self_signed_certificate
from tests.support.coturn import Coturn, free_listening_port, free_udp_range

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "coturn" / "turnserver.conf"
TIMEOUT = 5

# One address (or two) from every range the template must deny, and some it must not.
DENIED_SAMPLES = [
    "0.0.0.0",
    "10.1.2.3",
    "100.64.0.1",
    "127.0.0.1",
    "127.255.255.254",
    "169.254.169.254",
    "172.16.0.1",
    "172.31.255.255",
    "192.0.0.8",
    "192.0.2.1",
    "192.88.99.1",
    "192.168.1.1",
    "198.18.0.1",
    "198.51.100.1",
    "203.0.113.1",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "::1",
    "::2",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "::ffff:0:a00:1",
    "64:ff9b::a00:1",
    "64:ff9b:1::1",
    "100::1",
    "2001::1",
    "2001:db8::1",
    "2002:a00:1::1",
    "fc00::1",
    "fd12:3456::1",
    "fe80::1",
    "fec0::1",
    "ff02::1",
]
PUBLIC_SAMPLES = ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "2a00:1450::1"]

# Lines in coturn's log that mean it did not take the configuration as written.
CONFIG_TROUBLE = re.compile(
    r"bad configuration|error|wrong|unknown|cannot|can't|not found|deprecated|warning", re.I
)


def template_settings() -> list[tuple[str, str]]:
    """(name, value) for every setting line of the template, in order."""
    settings = []
    for line in TEMPLATE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            settings.append((name.strip(), value.strip()))
    return settings


def template_value(name: str) -> str:
    (value,) = [value for key, value in template_settings() if key == name]
    return value


def denied_ranges() -> list[tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, ...]]:
    ranges = []
    for name, value in template_settings():
        if name == "denied-peer-ip":
            first, _, last = value.partition("-")
            ranges.append((ipaddress.ip_address(first), ipaddress.ip_address(last or first)))
    return ranges


def is_denied(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return any(
        first.version == ip.version and first <= ip <= last for first, last in denied_ranges()
    )


# --- what the template says --------------------------------------------------------------------


def test_template_has_every_required_setting():
    names = {name for name, _ in template_settings()}
    required = {
        "use-auth-secret",
        "static-auth-secret",
        "realm",
        "fingerprint",
        "no-cli",
        "no-multicast-peers",
        "denied-peer-ip",
        "user-quota",
        "total-quota",
        "max-allocate-lifetime",
        "no-tlsv1",
        "no-tlsv1_1",
        "tls-listening-port",
        "cert",
        "pkey",
    }
    assert required <= names, f"missing: {sorted(required - names)}"
    assert template_value("tls-listening-port") == "5349"
    assert int(template_value("max-allocate-lifetime")) <= 3600


def test_template_never_allows_loopback_peers_or_long_lived_users():
    names = {name for name, _ in template_settings()}
    assert not names & {"allow-loopback-peers", "user", "lt-cred-mech", "no-auth"}


def test_every_setting_line_is_explained_by_a_comment_above_it():
    # A setting may share its comment with the settings right below it (min-port, max-port),
    # but a block of settings must start with a comment saying why.
    unexplained = []
    previous = ""
    for number, line in enumerate(TEMPLATE.read_text().splitlines(), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#") and not previous:
            unexplained.append(f"{number}: {stripped}")
        previous = stripped
    assert not unexplained, "settings without a comment above them:\n" + "\n".join(unexplained)


@pytest.mark.parametrize("address", DENIED_SAMPLES)
def test_template_denies_private_and_reserved_peers(address):
    assert is_denied(address)


@pytest.mark.parametrize("address", PUBLIC_SAMPLES)
def test_template_lets_public_peers_through(address):
    assert not is_denied(address)


def test_template_never_denies_the_unspecified_address_which_coturn_reads_as_everything():
    # Tested on coturn 4.6.1: "denied-peer-ip=0.0.0.0", "=::" or "=::-::1" denies every peer.
    for name, value in template_settings():
        if name == "denied-peer-ip":
            first, _, last = value.partition("-")
            assert ipaddress.ip_address(first) != ipaddress.ip_address("::"), value
            assert last or ipaddress.ip_address(first) != ipaddress.ip_address("0.0.0.0"), value


def test_template_denies_ipv4_mapped_ipv6_as_the_issue_demands():
    assert ("denied-peer-ip", "::ffff:0.0.0.0-::ffff:255.255.255.255") in template_settings()


# --- Debian's coturn runs it -------------------------------------------------------------------


def ipv6_loopback_available() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


def production_copy(folder: Path) -> Coturn:
    """A Coturn (not yet started) running a copy of the template, changed only where a test
    machine needs it: ports, loopback addresses, certificate, key and file paths."""
    cert_path, key_path = write_self_signed_certificate(folder)
    port, tls_port = free_listening_port(), free_listening_port()
    min_port, max_port = free_udp_range()
    replacements = {
        "listening-port": str(port),
        "tls-listening-port": str(tls_port),
        "min-port": str(min_port),
        "max-port": str(max_port),
        "cert": str(cert_path),
        "pkey": str(key_path),
        "log-file": str(folder / "turnserver.log"),
        "pidfile": str(folder / "turnserver.pid"),
    }
    replaced = set()
    lines = []
    for line in TEMPLATE.read_text().splitlines():
        name = line.partition("=")[0].strip()
        if not line.startswith("#") and name in replacements:
            line = f"{name}={replacements[name]}"
            replaced.add(name)
        lines.append(line)
    assert replaced == set(replacements), "the template no longer has the lines this test adapts"
    # A test machine has no public address: listen and relay on loopback only.
    addresses = ["127.0.0.1", "::1"] if ipv6_loopback_available() else ["127.0.0.1"]
    for address in addresses:
        lines += [f"listening-ip={address}", f"relay-ip={address}"]
    lines.append(f"userdb={folder / 'turndb.sqlite'}")
    server = Coturn(
        folder,
        secrets=[template_value("static-auth-secret")],
        realm=template_value("realm"),
        config="\n".join(lines) + "\n",
        port=port,
    )
    assert server.log_path == folder / "turnserver.log"
    server.tls_port = tls_port
    server.cert_path = cert_path
    server.min_port, server.max_port = min_port, max_port
    return server


@pytest.fixture(scope="module")
def production_turn(tmp_path_factory):
    with production_copy(tmp_path_factory.mktemp("coturn-production")) as server:
        yield server


def test_template_starts_and_logs_no_configuration_trouble(tmp_path):
    server = production_copy(tmp_path)
    with server:
        assert server.running
    # coturn buffers its log; it is complete once the process has exited.
    log = server.log_text()
    assert "Relay ports initialization done" in log, log
    trouble = [line for line in server.output_text().splitlines() if CONFIG_TROUBLE.search(line)]
    assert not trouble, "\n".join(trouble)
    # Each denial is loaded, the IPv4-mapped one included.
    assert log.count("Black listing:") == len(denied_ranges())
    assert "Black listing: ::ffff:0.0.0.0-::ffff:255.255.255.255" in log
    assert "TLS1.2: Certificate file found" in log


def test_template_serves_tls_1_2_or_newer_with_the_configured_certificate(production_turn):
    context = ssl.create_default_context(cafile=str(production_turn.cert_path))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    with (
        socket.create_connection(("127.0.0.1", production_turn.tls_port), timeout=TIMEOUT) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        assert tls.version() in {"TLSv1.2", "TLSv1.3"}
        assert tls.getpeercert()["subject"] == ((("commonName", "localhost"),),)


def test_template_never_completes_a_tls_1_1_handshake(production_turn):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    # The client offers TLS 1.1 only, with every cipher it has.
    context.set_ciphers("ALL:@SECLEVEL=0")
    try:
        context.minimum_version = ssl.TLSVersion.TLSv1_1
        context.maximum_version = ssl.TLSVersion.TLSv1_1
    except (ValueError, ssl.SSLError):
        pytest.skip("this Python's OpenSSL cannot even offer TLS 1.1")
    # coturn with no-tlsv1_1 does not answer such a hello at all, so a short timeout suffices.
    with (
        socket.create_connection(("127.0.0.1", production_turn.tls_port), timeout=1.5) as raw,
        pytest.raises((ssl.SSLError, TimeoutError, ConnectionError)),
    ):
        context.wrap_socket(raw, server_hostname="localhost")


class Inbox(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.closed = asyncio.Event()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set()


async def bind_errors(protocol: TurnClientMixin, peers: list[str]) -> dict[str, int]:
    """Ask for a channel to each peer (which creates a permission); collect coturn's refusals."""
    refusals = {}
    for number, peer in enumerate(peers):
        try:
            await protocol.channel_bind(0x4000 + number, (peer, 9))
        except TransactionFailed as exc:
            refusals[peer] = exc.response.attributes["ERROR-CODE"][0]
    return refusals


async def ipv4_peer_refusals(turn: Coturn, peers: list[str], tls: bool = False) -> dict[str, int]:
    """Allocate an IPv4 relay (over UDP, or TLS) and collect coturn's refusals of ``peers``."""
    credential = turn_credential_for(user_id=1, secret=turn.secret, ttl=600)
    ssl_context = None
    server = turn.address
    if tls:
        ssl_context = ssl.create_default_context(cafile=str(turn.cert_path))
        server = ("localhost", turn.tls_port)
    relay, inbox = await asyncio.wait_for(
        create_turn_endpoint(
            Inbox,
            server_addr=server,
            username=credential.username,
            password=credential.password,
            transport="tcp" if tls else "udp",
            ssl=ssl_context,
        ),
        TIMEOUT,
    )
    try:
        # aioice keeps its STUN client private; channel_bind is the one request it lacks a
        # public door for, and sending real data to 8.8.8.8 from a test would be rude.
        return await bind_errors(relay._TurnTransport__inner_protocol, peers)
    finally:
        relay.close()
        await asyncio.wait_for(inbox.closed.wait(), TIMEOUT)


async def ipv6_peer_refusals(turn: Coturn, peers: list[str]) -> dict[str, int]:
    """Allocate an IPv6 relay and collect coturn's refusals of ``peers``.

    aioice never asks for an IPv6 relay, so this sends the Allocate itself with RFC 6156's
    REQUESTED-ADDRESS-FAMILY (0x0017, family 0x02), taught to aioice's attribute table here.
    """
    entry = (0x0017, "REQUESTED-ADDRESS-FAMILY", stun.pack_unsigned, stun.unpack_unsigned)
    stun.ATTRIBUTES_BY_TYPE.setdefault(entry[0], entry)
    stun.ATTRIBUTES_BY_NAME.setdefault(entry[1], entry)

    credential = turn_credential_for(user_id=1, secret=turn.secret, ttl=600)
    server = ("::1", turn.port)
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(
        lambda: TurnClientUdpProtocol(
            server,
            username=credential.username,
            password=credential.password,
            lifetime=600,
            channel_refresh_time=500,
        ),
        remote_addr=server,
    )
    try:
        request = stun.Message(
            message_method=stun.Method.ALLOCATE, message_class=stun.Class.REQUEST
        )
        request.attributes["LIFETIME"] = 600
        request.attributes["REQUESTED-TRANSPORT"] = UDP_TRANSPORT
        request.attributes["REQUESTED-ADDRESS-FAMILY"] = 0x02 << 24
        response, _ = await asyncio.wait_for(protocol.request_with_retry(request), TIMEOUT)
        relayed_host = response.attributes["XOR-RELAYED-ADDRESS"][0]
        assert ipaddress.ip_address(relayed_host).version == 6, relayed_host
        return await bind_errors(protocol, peers)
    finally:
        transport.close()


IPV4_SAMPLES = [a for a in DENIED_SAMPLES if ipaddress.ip_address(a).version == 4]
IPV6_SAMPLES = [a for a in DENIED_SAMPLES if ipaddress.ip_address(a).version == 6]


def test_template_relay_refuses_every_denied_ipv4_peer_and_allows_public_ones(production_turn):
    public = [a for a in PUBLIC_SAMPLES if ipaddress.ip_address(a).version == 4]
    refusals = asyncio.run(ipv4_peer_refusals(production_turn, IPV4_SAMPLES + public))
    # 403 Forbidden for every denied peer; public peers get their channel (nothing is sent).
    assert refusals == dict.fromkeys(IPV4_SAMPLES, 403)


def test_template_relay_refuses_ipv4_mapped_and_private_ipv6_peers(production_turn):
    tools.require("IPv6 loopback", ipv6_loopback_available(), "::1 cannot be bound")
    public = [a for a in PUBLIC_SAMPLES if ipaddress.ip_address(a).version == 6]
    # Without the ::ffff:0:0/96 line coturn 4.6 relays to ::ffff:127.0.0.1, the host itself.
    refusals = asyncio.run(ipv6_peer_refusals(production_turn, IPV6_SAMPLES + public))
    assert refusals == dict.fromkeys(IPV6_SAMPLES, 403)


def test_template_accepts_app_credentials_over_turns(production_turn):
    refusals = asyncio.run(ipv4_peer_refusals(production_turn, ["127.0.0.1"], tls=True))
    assert refusals == {"127.0.0.1": 403}
