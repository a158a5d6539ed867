"""Fixtures for the room page's end-to-end tests: live daphne, real Chromium, several users.

Everything here talks to the page through the hooks of the contract and the lead's additions
(``data-action``, ``data-peer-id``, ``body[data-call-state]``, ``window.meet`` and so on), never
through the client's internals, so the tests keep proving what a user would notice.
"""

from __future__ import annotations

import hashlib
import http.client
import re
import secrets
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from playwright.sync_api import expect

from tests.support.browser import FRAMES_GAINED_JS, JOIN_READY_JS, add_session_cookie
from tests.support.coturn import Coturn
from tests.support.servers import LiveServers

# Waits are on explicit page state; these bound how long a healthy loopback call may take on a
# busy two-core CI machine (a three-way mesh usually connects in well under a second).
# Timeouts only bound failures (a passing test never waits them out), so they leave room for a
# CI machine whose two cores are shared by three Chromium renderers and daphne.
CONNECT_TIMEOUT_MS = 20_000
UI_TIMEOUT_MS = 10_000
NAVIGATION_TIMEOUT_MS = 20_000
expect.set_options(timeout=UI_TIMEOUT_MS)

LOCAL_HOSTS = {"localhost", "127.0.0.1"}

# Counts decoded frames of the remote <video> of one peer's view; -1 while there is none yet.
FRAMES_JS = """
([peerId, view]) => {
  const sel = `[data-peer-id="${CSS.escape(peerId)}"][data-view="${view}"] video`;
  const video = document.querySelector(sel);
  if (!video || !video.videoWidth) return -1;
  return video.getVideoPlaybackQuality().totalVideoFrames;
}
"""


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item so fixtures can screenshot failed tests."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def _failed(request) -> bool:
    report = getattr(request.node, "rep_call", None)
    return report is None or report.failed


def make_live_servers(tmp_path_factory, **options) -> LiveServers:
    """Start a LiveServers for a whole module (the suite's fixture is per test)."""
    return LiveServers(workdir=tmp_path_factory.mktemp("live"), **options).start()


@pytest.fixture(scope="module")
def module_servers(tmp_path_factory) -> Iterator[LiveServers]:
    """One daphne (in-memory layer) per test module; modules that need more override this."""
    servers = make_live_servers(tmp_path_factory)
    yield servers
    servers.stop()


@pytest.fixture(scope="module")
def turn(tmp_path_factory) -> Iterator[Coturn]:
    """A real coturn for one module (only modules that ask for it start one)."""
    with Coturn(tmp_path_factory.mktemp("coturn"), secrets=["e2e-turn-secret"]) as server:
        yield server


def live_servers_with_turn(tmp_path_factory, turn: Coturn, **env: str) -> Iterator[LiveServers]:
    """For a module's ``module_servers``: daphne handing out ``turn``'s credentials and ``env``."""
    servers = make_live_servers(tmp_path_factory, extra_env={**turn.environment(), **env})
    yield servers
    servers.stop()


@dataclass
class Member:
    """One user's browser context and page in a call."""

    username: str
    display_name: str
    context: object
    page: object
    console_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    peer_id: str = ""

    def action(self, name: str, **attrs: str):
        """The control ``[data-action=name]`` (with extra attribute filters)."""
        selector = f'[data-action="{name}"]'
        selector += "".join(f'[{key.replace("_", "-")}="{value}"]' for key, value in attrs.items())
        return self.page.locator(selector)

    def tile(self, peer_id: str, view: str = "camera"):
        """The element showing ``peer_id``'s camera (or screen) on this member's page."""
        return self.page.locator(f'[data-peer-id="{peer_id}"][data-view="{view}"]')

    def send_file(self, path: Path | dict, to: str = "") -> None:
        """Send the file at ``path`` to the peer ``to`` (everyone when empty) from the dock.

        ``path`` may also be a Playwright file payload (``name``, ``mimeType``, ``buffer``),
        for names no file system would hold.
        """
        self.page.locator('select[name="file-to"]').select_option(to)
        # Choosing the file sends it: the dock has no separate Send button.
        self.page.locator('input[type=file][name="file"]').set_input_files(path)

    def wait_call_state(self, state: str, timeout: int = CONNECT_TIMEOUT_MS) -> None:
        self.page.wait_for_selector(f'body[data-call-state="{state}"]', timeout=timeout)

    def wait_signaling(self, state: str, timeout: int = CONNECT_TIMEOUT_MS) -> None:
        self.page.wait_for_selector(
            f'body[data-signaling="{state}"]', state="attached", timeout=timeout
        )

    def frames(self, peer_id: str, view: str = "camera") -> int:
        return self.page.evaluate(FRAMES_JS, [peer_id, view])

    def wait_frames_advance(
        self, peer_id: str, view: str = "camera", frames: int = 5, timeout: int = CONNECT_TIMEOUT_MS
    ) -> int:
        """Wait until ``peer_id``'s remote video plays and decodes ``frames`` more frames.

        Returns the frame count reached. A frozen or black-holed stream never passes this; a
        <video> that restarts its count (its source set again) is counted across the restart.
        """
        self.page.wait_for_function(
            f"([p, v, n, token]) => ({FRAMES_GAINED_JS})(token, p, ({FRAMES_JS})([p, v])) >= n",
            arg=[peer_id, view, frames, secrets.token_hex(8)],
            polling=100,
            timeout=timeout,
        )
        return self.frames(peer_id, view)

    def connection_state(self, peer_id: str) -> str | None:
        """``RTCPeerConnection.connectionState`` read through the test handle."""
        return self.page.evaluate(
            "(id) => window.meet.peerConnection(id)?.connectionState ?? null", peer_id
        )

    def selected_candidate_types(self, peer_id: str) -> dict:
        """The local and remote candidate types of the pair ICE selected (getStats)."""
        return self.page.evaluate(
            """async (id) => {
              const stats = await window.meet.peerConnection(id).getStats();
              let pairId = null;
              stats.forEach((r) => {
                if (r.type === "transport" && r.selectedCandidatePairId) {
                  pairId = r.selectedCandidatePairId;
                }
              });
              if (!pairId) return {};
              const pair = stats.get(pairId);
              return {
                state: pair.state,
                local: stats.get(pair.localCandidateId).candidateType,
                remote: stats.get(pair.remoteCandidateId).candidateType,
              };
            }""",
            peer_id,
        )

    def send_chat(self, text: str) -> None:
        form = self.page.locator("form#chat-form")
        if not form.is_visible():
            self.action("toggle-chat").click()
        form.locator('[name="text"]').fill(text)
        form.locator('[name="text"]').press("Enter")


@dataclass
class Call:
    """A room on a live server with members in it; made by the ``call_room`` fixture."""

    servers: LiveServers
    slug: str
    chromium: object
    sessions: dict[str, str]
    members: dict[str, Member] = field(default_factory=dict)
    departed: list[Member] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.servers.url(f"/rooms/{self.slug}/")

    def browse(
        self,
        username: str,
        *,
        init_script: str | None = None,
        viewport: dict | None = None,
        anonymous: bool = False,
    ) -> Member:
        """A fresh context logged in as ``username`` with a blank page, watched for errors.

        ``anonymous``: a visitor without an account (a would-be guest), known here as
        ``username`` only.
        """
        context = self.chromium.new_context(viewport=viewport or {"width": 1280, "height": 800})
        context.set_default_timeout(UI_TIMEOUT_MS)
        context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
        if not anonymous:
            add_session_cookie(context, self.servers.url(), self.sessions[username])
        if init_script:
            context.add_init_script(init_script)
        page = context.new_page()
        member = Member(username, username.title(), context, page)
        page.on("console", lambda msg: _record_console(member, msg))
        page.on("pageerror", lambda exc: member.console_errors.append(f"pageerror: {exc}"))
        page.on("request", lambda req: _record_request(member, req.url))
        page.on("dialog", lambda dialog: _record_dialog(member, dialog))
        self.members[username] = member
        return member

    def open(
        self,
        username: str,
        *,
        init_script: str | None = None,
        join: bool = True,
        viewport: dict | None = None,
    ) -> Member:
        """Open the room page for ``username`` in a fresh context and (by default) join."""
        member = self.browse(username, init_script=init_script, viewport=viewport)
        member.page.goto(self.url)
        member.page.wait_for_selector('body[data-call-state="prejoin"]', state="attached")
        if join:
            self.join(member)
        return member

    def join(self, member: Member) -> None:
        member.page.wait_for_function(JOIN_READY_JS, polling=100)
        member.action("join").click()
        member.wait_call_state("in-call")
        member.peer_id = member.page.evaluate("window.meet.selfPeerId")
        assert member.peer_id, "window.meet.selfPeerId is empty once in the call"

    def wait_all_connected(self, members: list[Member] | None = None) -> None:
        """Every pair of the given members shows ``connected`` on both ends."""
        members = members or list(self.members.values())
        for member in members:
            for other in members:
                if other is member:
                    continue
                member.page.wait_for_selector(
                    f'[data-peer-id="{other.peer_id}"][data-view="camera"]'
                    '[data-connection-state="connected"]',
                    state="attached",
                    timeout=CONNECT_TIMEOUT_MS,
                )
                assert member.connection_state(other.peer_id) == "connected"

    def close(self, username: str) -> None:
        """Close ``username``'s context; what its page logged is still checked by assert_clean."""
        member = self.members.pop(username)
        member.context.close()
        self.departed.append(member)

    def assert_clean(self, allowed_console: tuple[re.Pattern, ...] = ()) -> None:
        """No console errors (save the exact, explained ones given), no request off this host."""
        for member in [*self.members.values(), *self.departed]:
            errors = [
                line
                for line in member.console_errors
                if not any(pattern.fullmatch(line) for pattern in allowed_console)
            ]
            assert errors == [], f"console errors on {member.username}'s page: {errors}"
            assert member.foreign_requests == [], (
                f"{member.username}'s page asked another host: {member.foreign_requests}"
            )


def _record_console(member: Member, msg) -> None:
    if msg.type == "error":
        # Chromium's own network errors name no URL in their text; the location does.
        where = msg.location.get("url", "") if "Failed to load resource" in msg.text else ""
        member.console_errors.append(f"{msg.text} <{where}>" if where else msg.text)


def _record_request(member: Member, url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in LOCAL_HOSTS:
        member.foreign_requests.append(url)


def _record_dialog(member: Member, dialog) -> None:
    # Native dialogs are recorded (an alert() would prove injected script ran), then dismissed.
    member.dialogs.append(f"{dialog.type}: {dialog.message}")
    dialog.dismiss()


# Every module's server gets these users once (making users hashes passwords, which is slow);
# each test then makes its own room, over HTTP like a user would, in milliseconds.
USERS = ("ana", "bob", "cy", "dan")
STAFF = ("admin",)


@pytest.fixture(scope="module")
def module_sessions(module_servers) -> dict[str, str]:
    """Session cookies for :data:`USERS` and the staff user ``admin`` on the module's server."""
    return module_servers.create_users(*USERS, *STAFF, staff=STAFF)


def create_room_over_http(servers: LiveServers, session: str, name: str, **fields) -> str:
    """Create a room with the owner's session through ``/rooms/new/``; returns its slug."""
    port = servers.processes[0].port
    cookies = {"sessionid": session}

    def request(method: str, body: str = "") -> tuple[int, object, str]:
        connection = http.client.HTTPConnection("localhost", port, timeout=30)
        headers = {
            "Cookie": "; ".join(f"{key}={value}" for key, value in cookies.items()),
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": servers.url().rstrip("/"),
        }
        try:
            connection.request(method, "/rooms/new/", body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.headers, response.read().decode()
        finally:
            connection.close()

    status, headers, page = request("GET")
    assert status == 200, f"/rooms/new/ answered {status}"
    for header in headers.get_all("Set-Cookie") or []:
        if header.startswith("csrftoken="):
            cookies["csrftoken"] = header.split(";", 1)[0].split("=", 1)[1]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = {"csrfmiddlewaretoken": token, "name": name}
    data.update({key: ("on" if value is True else value) for key, value in fields.items()})
    status, headers, page = request("POST", urlencode(data))
    assert status == 302, f"room creation answered {status}: {page}"
    return headers["Location"].rstrip("/").rsplit("/", 1)[1]


@pytest.fixture
def call_room(
    request, chromium, module_servers, module_sessions, artifacts_dir
) -> Iterator[Callable[..., Call]]:
    """``call_room("ana", "bob", room={"is_private": True}, join=True)`` → a :class:`Call`.

    The first username owns a new room. Each named user gets a context with their own session
    cookie and, with ``join``, clicks Join (in order) and is in the call on return; any other of
    :data:`USERS` (or ``admin``) can come later with ``call.open(...)`` or ``call.browse(...)``.
    Failed tests leave a screenshot of every page and the server log in ``test-artifacts/``.
    """
    calls: list[Call] = []

    def make(
        *usernames: str,
        room: dict | None = None,
        join: bool = True,
    ) -> Call:
        # Rooms are named like their test, in words: a long but ordinary name a user might type.
        name = request.node.name[:60].replace("_", " ")
        slug = create_room_over_http(
            module_servers, module_sessions[usernames[0]], name, **(room or {})
        )
        call = Call(module_servers, slug, chromium, module_sessions)
        calls.append(call)
        for username in usernames:
            call.open(username, join=join)
        return call

    yield make

    for call in calls:
        if _failed(request):
            _save_artifacts(call, artifacts_dir / _safe(request.node.name))
        for member in list(call.members.values()):
            member.context.close()


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def _save_artifacts(call: Call, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for member in call.members.values():
        try:
            member.page.screenshot(path=str(directory / f"{member.username}.png"))
            (directory / f"{member.username}-console.txt").write_text(
                "\n".join(member.console_errors)
            )
        except Exception as exc:  # noqa: BLE001 - artifacts must never hide the real failure
            print(f"could not save artifacts of {member.username}: {exc}")
    for index, process in enumerate(call.servers.processes):
        if process.log_path and process.log_path.exists():
            shutil.copy(process.log_path, directory / f"daphne-{index}.log")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
