"""``manage.py doctor``: check a deployment from the server, piece by piece.

Each check returns ``Finding``s: a line that says OK, or says what is wrong and how to fix it.
The command prints them and exits non-zero when any failed. The checks use the real thing every
time: a TURN allocation with a credential the app would hand out, a VideoRoom created and
destroyed on each Janus node, a message through the channel layer to a second process, and the
public URL fetched over TLS with a WebSocket upgrade through the proxy.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import secrets
import socket
import ssl
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings

OK = "OK"
FAIL = "FAIL"
SKIP = "SKIP"
TIMEOUT = 10.0
ECHO_FLAG = "--layer-echo"


@dataclass(frozen=True)
class Finding:
    """One line of the report: ``status`` (OK, FAIL or SKIP), what was checked, and the detail."""

    status: str
    name: str
    detail: str

    def line(self) -> str:
        return f"{self.status:<4}  {self.name}: {self.detail}"


def ok(name: str, detail: str) -> Finding:
    return Finding(OK, name, detail)


def fail(name: str, detail: str) -> Finding:
    return Finding(FAIL, name, detail)


def skip(name: str, detail: str) -> Finding:
    return Finding(SKIP, name, detail)


# --- settings and the database ------------------------------------------------------------------


def check_settings() -> list[Finding]:
    """Django's deployment checks (``check --deploy``): every warning is a failure here."""
    from django.core.checks import run_checks

    messages = [
        message
        for message in run_checks(include_deployment_checks=True)
        if not message.is_silenced()
    ]
    if not messages:
        return [ok("settings", "check --deploy reports nothing")]
    return [
        fail("settings", f"{message.id}: {message.msg} Fix: {message.hint or 'see the README'}")
        for message in messages
    ]


def check_database() -> list[Finding]:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    vendor = connection.vendor
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        plan = MigrationExecutor(connection).migration_plan(
            MigrationExecutor(connection).loader.graph.leaf_nodes()
        )
    except Exception as error:  # noqa: BLE001 - any failure is reported the same way
        return [
            fail(
                "database",
                f"{vendor} does not answer ({error}). Fix: start it, or correct DATABASE_URL.",
            )
        ]
    findings = [ok("database", f"{vendor} answers")]
    if plan:
        findings.append(
            fail(
                "migrations",
                f"{len(plan)} migration(s) not applied. Fix: ./run manage migrate",
            )
        )
    else:
        findings.append(ok("migrations", "all applied"))
    if vendor == "sqlite" and settings.REDIS_URL:
        findings.append(
            fail(
                "database",
                "SQLite with several workers (REDIS_URL is set). Fix: use PostgreSQL "
                "(DATABASE_URL=postgres://...).",
            )
        )
    return findings


# --- Redis and the channel layer ----------------------------------------------------------------


def check_redis() -> list[Finding]:
    if not settings.REDIS_URL:
        return [skip("redis", "REDIS_URL is not set: one process only, in-memory layer")]
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=3, socket_connect_timeout=3)
    try:
        client.ping()
    except Exception as error:  # noqa: BLE001
        return [
            fail(
                "redis",
                f"no answer at {_without_password(settings.REDIS_URL)} ({error}). "
                "Fix: start Redis, or correct REDIS_URL.",
            )
        ]
    finally:
        client.close()
    return [ok("redis", f"answers at {_without_password(settings.REDIS_URL)}")]


def check_channel_layer() -> list[Finding]:
    """A message to a second process and its answer back, through the configured layer."""
    if not settings.REDIS_URL:
        return [skip("channel layer", "in-memory: messages stay inside one process")]
    try:
        return [asyncio.run(_layer_round_trip())]
    except Exception as error:  # noqa: BLE001
        return [
            fail(
                "channel layer",
                f"no round trip to a second process ({error}). Fix: check REDIS_URL and "
                "CHANNEL_LAYER_PREFIX, and that Redis accepts PUBLISH/SUBSCRIBE.",
            )
        ]


async def _layer_round_trip() -> Finding:
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    reply_channel = await layer.new_channel("doctor.")
    echo = await asyncio.create_subprocess_exec(
        sys.executable,
        str(Path(settings.BASE_DIR) / "manage.py"),
        "doctor",
        ECHO_FLAG,
        stdout=asyncio.subprocess.PIPE,
        env=os.environ.copy(),
    )
    try:
        line = await asyncio.wait_for(echo.stdout.readline(), TIMEOUT)
        echo_channel = line.decode().strip()
        if not echo_channel:
            raise RuntimeError("the second process did not start")
        token = secrets.token_hex(8)
        started = time.monotonic()
        await layer.send(
            echo_channel, {"type": "doctor.echo", "token": token, "reply": reply_channel}
        )
        answer = await asyncio.wait_for(layer.receive(reply_channel), TIMEOUT)
        elapsed = (time.monotonic() - started) * 1000
        if answer.get("token") != token:
            raise RuntimeError("the answer did not carry the token sent")
        return ok("channel layer", f"round trip to a second process in {elapsed:.0f} ms")
    finally:
        if echo.returncode is None:
            echo.kill()
        await echo.wait()
        discard = getattr(layer, "discard_channel", None)
        if discard is not None:
            await discard(reply_channel)


def layer_echo() -> None:
    """The second process of ``check_channel_layer``: answer one message, then exit."""

    async def answer_once() -> None:
        from channels.layers import get_channel_layer

        layer = get_channel_layer()
        channel = await layer.new_channel("doctor.")
        print(channel, flush=True)
        message = await asyncio.wait_for(layer.receive(channel), TIMEOUT)
        await layer.send(message["reply"], {"type": "doctor.echo", "token": message["token"]})
        discard = getattr(layer, "discard_channel", None)
        if discard is not None:
            await discard(channel)

    asyncio.run(answer_once())


# --- TURN ---------------------------------------------------------------------------------------


def check_turn() -> list[Finding]:
    from signaling.turn import turn_credential_for, turn_is_configured

    if not turn_is_configured():
        return [skip("turn", "TURN_SECRET or TURN_URLS not set: STUN only, no relay")]
    credential = turn_credential_for(
        user_id="doctor", secret=settings.TURN_SECRETS[0], ttl=settings.TURN_TTL
    )
    findings = []
    for url in settings.TURN_URLS:
        findings.append(
            asyncio.run(_turn_allocation(url, credential.username, credential.password))
        )
    return findings


def parse_turn_url(url: str) -> tuple[str, str, int, str]:
    """``turn:host:port?transport=udp`` → (scheme, host, port, transport)."""
    scheme, _, rest = url.partition(":")
    address, _, query = rest.partition("?")
    transport = "udp"
    for part in query.split("&"):
        key, _, value = part.partition("=")
        if key == "transport" and value:
            transport = value.lower()
    if scheme == "turns":
        transport = "tcp"
    if address.startswith("["):
        host, _, port_text = address[1:].partition("]")
        port_text = port_text.lstrip(":")
    else:
        host, _, port_text = (
            address.rpartition(":") if address.count(":") == 1 else (address, "", "")
        )
    default_port = 5349 if scheme == "turns" else 3478
    return scheme, host, int(port_text or default_port), transport


async def _turn_allocation(url: str, username: str, password: str) -> Finding:
    from aioice.stun import TransactionFailed
    from aioice.turn import create_turn_endpoint

    name = f"turn {url}"
    try:
        scheme, host, port, transport = parse_turn_url(url)
    except ValueError:
        return fail(name, "cannot read this URL. Fix: TURN_URLS=turn:HOST:PORT?transport=udp")
    context = ssl.create_default_context() if scheme == "turns" else None

    class Quiet(asyncio.DatagramProtocol):
        pass

    try:
        relay, _protocol = await asyncio.wait_for(
            create_turn_endpoint(
                Quiet,
                server_addr=(host, port),
                username=username,
                password=password,
                transport=transport,
                ssl=context,
            ),
            TIMEOUT,
        )
    except TransactionFailed as error:
        code, reason = error.response.attributes.get("ERROR-CODE", (0, "refused"))
        hint = (
            "coturn does not accept the credential. Fix: the first TURN_SECRET must be one of "
            "coturn's static-auth-secret lines (and the clocks must agree)."
            if code == 401
            else "Fix: see coturn's log."
        )
        return fail(name, f"allocation refused with {code} {reason}. {hint}")
    except (OSError, TimeoutError, ssl.SSLError) as error:
        return fail(
            name,
            f"no answer ({error or 'timed out'}). Fix: start coturn, open the port in the "
            "firewall, or correct TURN_URLS.",
        )
    relayed = relay.get_extra_info("sockname")
    relay.close()
    return ok(name, f"relay allocated at {relayed[0]}:{relayed[1]}")


# --- Janus --------------------------------------------------------------------------------------


def check_janus() -> list[Finding]:
    if not settings.JANUS_URLS:
        return [skip("janus", "JANUS_URLS not set: every call is a peer-to-peer mesh")]
    return [asyncio.run(_janus_check(url)) for url in settings.JANUS_URLS]


async def _janus_check(url: str) -> Finding:
    from signaling.janus import VIDEOROOM, JanusConnection, JanusError, JanusUnavailable

    name = f"janus {url}"
    connection = JanusConnection(url, api_secret=settings.JANUS_API_SECRET)
    try:
        await connection.connect()
        info = await connection.info()
        if VIDEOROOM not in (info.get("plugins") or {}):
            return fail(name, "the VideoRoom plugin is not loaded. Fix: see deploy/janus/.")
        session = await connection.create_session()
        handle = await session.attach()
        room = secrets.randbelow(2**40) + 1
        room_secret = secrets.token_hex(8)
        await handle.request(
            {
                "request": "create",
                "room": room,
                "admin_key": settings.JANUS_ADMIN_KEY,
                "secret": room_secret,
                "description": "meet doctor",
            }
        )
        await handle.request({"request": "destroy", "room": room, "secret": room_secret})
        await session.destroy()
    except JanusUnavailable as error:
        return fail(name, f"{error} Fix: start Janus, or correct JANUS_URLS.")
    except JanusError as error:
        if error.code == 403 and "secret" in error.reason.lower():
            hint = "JANUS_API_SECRET must be janus.jcfg's api_secret."
        elif error.code in (403, 405, 401) or "admin" in error.reason.lower():
            hint = "JANUS_ADMIN_KEY must be janus.plugin.videoroom.jcfg's admin_key."
        else:
            hint = "see Janus's log."
        return fail(name, f"refused: {error.reason} ({error.code}). Fix: {hint}")
    finally:
        await connection.close()
    return ok(name, f"Janus {info.get('version_string', '?')} creates and destroys rooms")


# --- the public URL -----------------------------------------------------------------------------


def check_public_url(url: str, *, ca_file: str | None = None) -> list[Finding]:
    """TLS, the health check and a WebSocket upgrade, through the proxy, as a browser sees them."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        return [fail("public url", f"{url} is not an https:// URL. Fix: give --url https://HOST")]
    context = ssl.create_default_context(cafile=ca_file)
    findings = []
    try:
        tls = _tls_version(parts.hostname, parts.port or 443, context)
    except (OSError, ssl.SSLError) as error:
        return [
            fail(
                "tls",
                f"{parts.netloc}: {error}. Fix: the certificate must be valid for this name "
                "(deploy/nginx/meet.conf's ssl_certificate), and port 443 open.",
            )
        ]
    findings.append(ok("tls", f"{parts.netloc} presents a valid certificate over {tls}"))
    health_url = f"{url.rstrip('/')}/healthz"
    try:
        # The scheme was checked above: only https:// reaches here.
        with urllib.request.urlopen(  # noqa: S310
            health_url, context=context, timeout=TIMEOUT
        ) as response:
            body = json.loads(response.read())
    except urllib.error.HTTPError as error:
        findings.append(
            fail("https", f"{health_url} answered {error.code}. Fix: {_http_hint(error.code)}")
        )
        return findings
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        findings.append(fail("https", f"{health_url} cannot be fetched ({reason})."))
        return findings
    if body.get("status") != "ok":
        findings.append(fail("https", f"{health_url} says {body}. Fix: see the workers' log."))
        return findings
    findings.append(ok("https", f"{health_url} answers ok through the proxy"))
    findings.append(asyncio.run(_websocket_upgrade(url, context)))
    return findings


def _tls_version(host: str, port: int, context: ssl.SSLContext) -> str:
    with socket.create_connection((host, port), timeout=TIMEOUT) as raw:
        with context.wrap_socket(raw, server_hostname=host) as tls:
            return tls.version() or "TLS"


def _http_hint(status: int) -> str:
    if status == 400:
        return "add the host name to DJANGO_ALLOWED_HOSTS."
    if status in (502, 504):
        return "nginx cannot reach the workers; start meet@PORT and check the upstream ports."
    return "see nginx's and the workers' logs."


async def _websocket_upgrade(url: str, context: ssl.SSLContext) -> Finding:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed, InvalidStatus

    from signaling.wire import FORBIDDEN

    parts = urlsplit(url)
    origin = f"https://{parts.netloc}"
    socket_url = f"wss://{parts.netloc}/ws/rooms/doctor-check/"
    try:
        async with connect(
            socket_url, ssl=context, origin=origin, open_timeout=TIMEOUT, close_timeout=2
        ) as socket:
            frame = json.loads(await asyncio.wait_for(socket.recv(), TIMEOUT))
    except InvalidStatus as error:
        return fail(
            "websocket",
            f"{socket_url} answered HTTP {error.response.status_code} instead of upgrading. Fix: "
            "nginx must pass Upgrade and Connection for /ws/ (deploy/nginx/meet.conf).",
        )
    except (OSError, TimeoutError, ConnectionClosed, ssl.SSLError) as error:
        return fail("websocket", f"{socket_url} failed ({error}). Fix: see nginx's error log.")
    if frame.get("type") == "error" and frame.get("code") == FORBIDDEN:
        return fail(
            "websocket",
            f"the upgrade works, but the site refuses its own origin {origin}. Fix: add it to "
            "CSRF_TRUSTED_ORIGINS and set DJANGO_BEHIND_PROXY=true.",
        )
    if frame.get("type") == "error":
        # An anonymous probe is refused by admission: that proves the socket reached meet.
        return ok("websocket", f"{socket_url} upgrades and meet answers ({frame.get('code')})")
    return fail("websocket", f"{socket_url} answered {frame!r}")


# --- the whole report ---------------------------------------------------------------------------


def run_checks(*, url: str | None = None, ca_file: str | None = None) -> list[Finding]:
    findings: list[Finding] = []
    for check in (
        check_settings,
        check_database,
        check_redis,
        check_channel_layer,
        check_turn,
        check_janus,
    ):
        try:
            findings.extend(check())
        except Exception as error:  # noqa: BLE001 - one broken check must not hide the others
            findings.append(
                fail(check.__name__.removeprefix("check_"), f"the check crashed: {error}")
            )
    if url:
        findings.extend(check_public_url(url, ca_file=ca_file))
    else:
        findings.append(skip("public url", "not checked; give --url https://your.host"))
    return findings


def report(findings: list[Finding], out: io.TextIOBase) -> int:
    for finding in findings:
        out.write(finding.line() + "\n")
    failed = sum(finding.status == FAIL for finding in findings)
    out.write(f"{failed} problem(s) found.\n" if failed else "Everything checked is fine.\n")
    return 1 if failed else 0


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = f"{parts.username or ''}:***@{parts.hostname}"
        if parts.port:
            netloc += f":{parts.port}"
        return parts._replace(netloc=netloc).geturl()
    return url
