"""A real Janus for tests, started from the project's own templates in ``deploy/janus/``.

Typical use::

    with Janus(tmp_path) as janus:
        janus.url           # "ws://127.0.0.1:PORT"
        janus.api_secret    # what meet's JANUS_API_SECRET must be
        janus.admin_key     # what meet's JANUS_ADMIN_KEY must be

The three configuration files are the deployment templates with their ``@...@`` values filled in
(a free port, fresh secrets, this machine's library folder), so the tests exercise what a
self-hoster installs: only the VideoRoom plugin and the WebSocket transport, an API secret, a
VideoRoom admin key, no demo rooms, no admin API.

Janus never gathers ICE candidates on loopback interfaces, so a test that sends media through it
runs Janus (and the browsers and daphne) inside a ``NetworkNamespace`` of its own: ``lo`` and a
veth pair with a 10.x address that exists only inside that namespace. Nothing is added to the
machine's own interfaces and no traffic leaves the namespace. An API-only test needs no
namespace: the WebSocket API answers on 127.0.0.1.

The process runs in its own process group and is stopped by its PID.
"""

from __future__ import annotations

import ctypes
import glob
import json
import secrets
import shutil
import subprocess
import threading
import time
import uuid
from pathlib import Path

from tests.support import tools
from tests.support.processes import ManagedServer

PROJECT_DIR = Path(__file__).resolve().parents[2]
TEMPLATE_DIR = PROJECT_DIR / "deploy" / "janus"
TEMPLATES = (
    "janus.jcfg",
    "janus.plugin.videoroom.jcfg",
    "janus.transport.websockets.jcfg",
)
STARTUP_TIMEOUT = 20.0
CLONE_NEWNET = 0x40000000


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def janus_path() -> str | None:
    return shutil.which("janus")


def janus_library_folder() -> str | None:
    """Where Debian put Janus's plugins and transports (``/usr/lib/<triplet>/janus``)."""
    found = sorted(glob.glob("/usr/lib/*/janus/plugins/libjanus_videoroom.so"))
    return str(Path(found[0]).parents[1]) if found else None


def require_janus() -> None:
    tools.require(
        "Janus",
        bool(janus_path() and janus_library_folder()),
        "install Debian's janus package",
    )


class NetworkNamespace:
    """A network namespace made by the test, with ``lo`` up and a veth pair on a 10.x network.

    Both veth ends live inside the namespace (``ip link add ... netns``), so the address exists
    only there: processes started through ``command()`` see it, the machine does not. Deleting
    the namespace removes both ends.
    """

    def __init__(self, name: str | None = None, *, address: str = "10.77.0.1/24") -> None:
        self.name = name or f"meet-{uuid.uuid4().hex[:8]}"
        self.cidr = address
        self.address = address.split("/")[0]
        self.interface = "sfu0"
        self.created = False

    def _ip(self, *args: str) -> None:
        subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)

    def create(self) -> NetworkNamespace:
        tools.require("ip netns", bool(shutil.which("ip")), "install iproute2")
        self._ip("netns", "add", self.name)
        self.created = True
        try:
            ns = ("netns", "exec", self.name, "ip")
            self._ip(*ns, "link", "set", "lo", "up")
            self._ip(*ns, "link", "add", self.interface, "type", "veth", "peer", "name", "sfu1")
            self._ip(*ns, "addr", "add", self.cidr, "dev", self.interface)
            self._ip(*ns, "link", "set", self.interface, "up")
            self._ip(*ns, "link", "set", "sfu1", "up")
        except BaseException:
            self.delete()
            raise
        return self

    def command(self, argv: list[str]) -> list[str]:
        """``argv`` run inside the namespace."""
        return ["ip", "netns", "exec", self.name, *argv]

    def call(self, function, *args, **kwargs):
        """``function(*args, **kwargs)`` run on a thread that entered the namespace.

        A network namespace belongs to a thread (``setns``), and so does every socket that
        thread opens: the test reaches daphne inside the namespace this way, with no address
        or route added anywhere. The thread ends with the call, so nothing else moves.
        """
        outcome: dict = {}

        def run() -> None:
            try:
                with open(f"/var/run/netns/{self.name}") as handle:
                    if _libc().setns(handle.fileno(), CLONE_NEWNET) != 0:
                        raise OSError(ctypes.get_errno(), "setns failed")
                outcome["value"] = function(*args, **kwargs)
            except BaseException as error:  # noqa: BLE001 - re-raised on the caller's thread
                outcome["error"] = error

        thread = threading.Thread(target=run, name=f"netns-{self.name}")
        thread.start()
        thread.join()
        if "error" in outcome:
            raise outcome["error"]
        return outcome.get("value")

    def chromium_launcher(self, directory: Path, chromium: str) -> Path:
        """An executable that starts ``chromium`` inside the namespace, for Playwright.

        Playwright talks to Chromium over a pipe, which crosses namespaces; the browser's own
        traffic (the page, its socket, WebRTC) stays inside.
        """
        launcher = Path(directory) / f"chromium-in-{self.name}"
        launcher.write_text(f'#!/bin/sh\nexec ip netns exec {self.name} {chromium} "$@"\n')
        launcher.chmod(0o755)
        return launcher

    def delete(self) -> None:
        if self.created:
            subprocess.run(
                ["ip", "netns", "delete", self.name], capture_output=True, timeout=10, check=False
            )
            self.created = False

    def __enter__(self) -> NetworkNamespace:
        return self.create()

    def __exit__(self, *exc_info: object) -> None:
        self.delete()


class Janus(ManagedServer):
    """One Janus process with the project's templates; see the module docstring."""

    def __init__(
        self,
        workdir: Path,
        *,
        port: int | None = None,
        api_secret: str | None = None,
        admin_key: str | None = None,
        namespace: NetworkNamespace | None = None,
        rtp_port_range: str = "40000-40199",
    ) -> None:
        self.workdir = Path(workdir)
        self.namespace = namespace
        # Inside a namespace every port is free; on the machine, ask the kernel for one.
        self.port = port or tools.free_port()
        self.api_secret = api_secret or secrets.token_hex(16)
        self.admin_key = admin_key or secrets.token_hex(16)
        self.rtp_port_range = rtp_port_range
        self.process: subprocess.Popen | None = None

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "janus.log"

    def environment(self) -> dict[str, str]:
        """The settings meet needs to use this Janus, as environment variables."""
        return {
            "JANUS_URLS": self.url,
            "JANUS_API_SECRET": self.api_secret,
            "JANUS_ADMIN_KEY": self.admin_key,
        }

    def config_values(self) -> dict[str, str]:
        enforce = (
            f'ice_enforce_list = "{self.namespace.interface}"'
            if self.namespace
            else "# ice_enforce_list: every interface"
        )
        return {
            "@CONFIGS_FOLDER@": str(self.workdir),
            "@LIB_FOLDER@": janus_library_folder() or "/usr/lib/janus",
            "@API_SECRET@": self.api_secret,
            "@ADMIN_KEY@": self.admin_key,
            "@RTP_PORT_RANGE@": self.rtp_port_range,
            "@NAT_1_1_LINE@": "# nat_1_1_mapping: none in tests",
            "@ICE_ENFORCE_LINE@": enforce,
            "@WS_IP@": self.host,
            "@WS_PORT@": str(self.port),
        }

    def write_config(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        values = self.config_values()
        for name in TEMPLATES:
            text = (TEMPLATE_DIR / name).read_text()
            for placeholder, value in values.items():
                text = text.replace(placeholder, value)
            if "@" in "".join(line.split("#")[0] for line in text.splitlines()):
                raise AssertionError(f"{name}: a placeholder was left unfilled")
            (self.workdir / name).write_text(text)

    output_name = "janus.stdout"

    def prepare(self) -> None:
        require_janus()
        self.write_config()

    def command(self) -> list[str]:
        argv = [
            janus_path(),
            "-F",
            str(self.workdir),
            "-C",
            str(self.workdir / "janus.jcfg"),
            "-L",
            str(self.log_path),
            "-N",
            "-o",
        ]
        return self.namespace.command(argv) if self.namespace is not None else argv

    def info(self) -> dict:
        """Janus's ``info`` answer, asked over the WebSocket API (no secret needed for it)."""
        from websockets.sync.client import connect

        argv_url = self.url
        with connect(argv_url, subprotocols=["janus-protocol"], open_timeout=2) as socket:
            socket.send(json.dumps({"janus": "info", "transaction": "probe"}))
            return json.loads(socket.recv(timeout=2))

    def wait_until_answering(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"janus exited before answering:\n{self.log_text()}")
            if self.namespace is not None:
                # The API is on the namespace's loopback: probe from inside it.
                probe = subprocess.run(
                    self.namespace.command(["ss", "-ltn", f"sport = :{self.port}"]),
                    capture_output=True,
                    text=True,
                    timeout=5,
                    check=False,
                )
                if f":{self.port}" in probe.stdout:
                    return
            else:
                try:
                    if self.info().get("janus") == "server_info":
                        return
                except Exception as error:  # noqa: BLE001 - not up yet, whatever the reason
                    last_error = error
            time.sleep(0.2)
        raise RuntimeError(f"janus did not answer on {self.url} ({last_error}):\n{self.log_text()}")

    def videoroom(self, body: dict) -> dict:
        """Send one synchronous VideoRoom request (``listparticipants``, ``exists``...) as an
        operator would, with the API secret, and return the plugin's data. Runs inside the
        namespace when Janus does."""

        def ask() -> dict:
            from websockets.sync.client import connect

            with connect(self.url, subprotocols=["janus-protocol"], open_timeout=5) as socket:

                def call(request: dict) -> dict:
                    transaction = secrets.token_hex(6)
                    request = {**request, "transaction": transaction, "apisecret": self.api_secret}
                    socket.send(json.dumps(request))
                    while True:
                        answer = json.loads(socket.recv(timeout=5))
                        if answer.get("transaction") == transaction and answer["janus"] != "ack":
                            return answer

                session = call({"janus": "create"})["data"]["id"]
                handle = call(
                    {"janus": "attach", "session_id": session, "plugin": "janus.plugin.videoroom"}
                )["data"]["id"]
                answer = call(
                    {"janus": "message", "session_id": session, "handle_id": handle, "body": body}
                )
                call({"janus": "destroy", "session_id": session})
                return answer["plugindata"]["data"]

        return self.namespace.call(ask) if self.namespace is not None else ask()

    def log_text(self) -> str:
        return self.output_text(self.log_path)
