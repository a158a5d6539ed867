"""`./run` as an operator runs it: first-run admin, client addresses and what its logs hold.

Each server here is `./run`'s own `serve` (migrate, collectstatic, first-run admin, daphne), in a
temporary state folder on a free port; only the virtual-environment step is skipped, the tests'
venv being the one `./run` would use.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import secrets
import stat
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from websockets.sync.client import connect

from tests.support import tools
from tests.support.processes import stop_process_group

PROJECT_DIR = Path(__file__).resolve().parents[2]
SOURCED_RUN = 'source ./run\nensure_venv() { :; }\nmain "$@"\n'


@dataclass
class RunServer:
    """One `./run` process and everything it has written to stdout and stderr."""

    process: subprocess.Popen
    port: int
    state_dir: Path
    output_path: Path
    env: dict[str, str]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.output_path.read_text(errors="replace")

    def wait_for_output(self, fragment: str, timeout: float = 10) -> str:
        """The output once it holds ``fragment`` (a log line being written), else a failure."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if fragment in (text := self.output()):
                return text
            time.sleep(0.1)
        pytest.fail(f"{fragment!r} never appeared in ./run's output:\n{self.output()}")

    def get(self, path: str, headers: dict[str, str] | None = None) -> int:
        request = urllib.request.Request(self.base_url + path, headers=headers or {})
        opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def manage(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["bash", "-c", SOURCED_RUN, "run", "manage", *args],
            cwd=PROJECT_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def start_run(workdir: Path, **settings: str) -> RunServer:
    """Start `./run` with only ``settings`` (and a private state folder) in its environment."""
    prefixes = ("DJANGO_", "DATABASE_", "REDIS_", "TURN_", "STUN_", "MEET_", "PYTEST", "CSRF_")
    env = {key: value for key, value in os.environ.items() if not key.startswith(prefixes)}
    env.pop("LOG_LEVEL", None)
    port = tools.free_port()
    env.update(
        {
            "MEET_STATE_DIR": str(workdir / "state"),
            "HOST": "127.0.0.1",
            "PORT": str(port),
            # collectstatic writes here, not into the project's staticfiles/.
            "DJANGO_STATIC_ROOT": str(workdir / "static"),
            "DJANGO_STATIC_MANIFEST": "false",
            # Log lines reach the file as they are written, so a test can wait for them.
            "PYTHONUNBUFFERED": "1",
            "LOGIN_FAILURE_LIMIT": "3",
            **settings,
        }
    )
    output_path = workdir / "run.log"
    with open(output_path, "ab") as output:
        process = subprocess.Popen(
            ["bash", "-c", SOURCED_RUN, "run"],
            cwd=PROJECT_DIR,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = RunServer(process, port, workdir / "state", output_path, env)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"./run exited with {process.returncode}:\n{server.output()}")
        try:
            if server.get("/healthz") == 200:
                return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    stop_process_group(process)
    pytest.fail(f"./run never served /healthz:\n{server.output()}")


@pytest.fixture(scope="module")
def run_server(tmp_path_factory):
    """`./run` with nothing configured: the standalone first run."""
    server = start_run(tmp_path_factory.mktemp("run"))
    yield server
    stop_process_group(server.process)


@pytest.fixture(scope="module")
def run_server_behind_proxy(tmp_path_factory):
    server = start_run(tmp_path_factory.mktemp("run-proxy"), DJANGO_BEHIND_PROXY="true")
    yield server
    stop_process_group(server.process)


def open_socket(server: RunServer, path: str, cookie: str = "") -> None:
    """Open a signaling socket and read until the server closes it (no one is logged in)."""
    headers = {"Origin": server.base_url}
    if cookie:
        headers["Cookie"] = cookie
    try:
        with connect(
            f"ws://127.0.0.1:{server.port}{path}", additional_headers=headers, open_timeout=10
        ) as socket:
            while True:
                socket.recv(timeout=10)
    except Exception:  # the refusal (a close or a rejected handshake) is expected
        pass


# --- First-run admin ----------------------------------------------------------------------------


def test_first_run_puts_admin_password_in_a_private_file_and_prints_only_its_path(run_server):
    password_file = run_server.state_dir / "admin-password"
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    password = password_file.read_text().strip()
    assert len(password) >= 16
    output = run_server.output()
    assert str(password_file) in output
    assert password not in output
    # The file's password is the admin's.
    check = run_server.manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from django.contrib.auth import get_user_model;"
        "admin = get_user_model().objects.get(username='admin', is_superuser=True);"
        f"print('ok' if admin.check_password({password!r}) else 'no')",
    )
    assert check.stdout.strip().splitlines()[-1] == "ok", check.stdout + check.stderr


def test_a_later_run_leaves_the_admin_and_its_password_file_alone(run_server):
    password_file = run_server.state_dir / "admin-password"
    before = password_file.read_text()
    again = subprocess.run(
        ["bash", "-c", "source ./run\nensure_state\nensure_admin\n"],
        cwd=PROJECT_DIR,
        env=run_server.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 0, again.stderr
    assert again.stdout == ""
    assert password_file.read_text() == before


# --- Secrets in URLs never reach the logs -------------------------------------------------------


def test_invite_token_in_a_room_link_never_reaches_the_logs(run_server):
    token = "invite" + secrets.token_hex(16)
    assert run_server.get(f"/rooms/invite-probe/?invite={token}") == 302
    # Someone not logged in is sent to the login page with the whole link in ?next=.
    assert run_server.get(f"/accounts/login/?next=/rooms/invite-probe/%3Finvite%3D{token}") == 200
    run_server.wait_for_output('"GET /rooms/invite-probe/')
    output = run_server.wait_for_output('"GET /accounts/login/?next=')
    assert token not in output


def test_resume_and_invite_tokens_in_a_socket_url_never_reach_the_logs(run_server):
    resume, invite, session = (secrets.token_hex(16) for _ in range(3))
    open_socket(
        run_server,
        f"/ws/rooms/socket-probe/?resume={resume}&invite={invite}",
        cookie=f"sessionid={session}",
    )
    output = run_server.wait_for_output("/ws/rooms/socket-probe/")
    for secret in (resume, invite, session):
        assert secret not in output


# --- Forwarded client addresses -----------------------------------------------------------------


def access_line(server: RunServer, path: str) -> str:
    output = server.wait_for_output(f'"GET {path}')
    return next(line for line in output.splitlines() if f'"GET {path}' in line)


def test_forwarded_for_is_ignored_unless_behind_a_proxy(run_server):
    # Any client could claim any address; the app must see the connection's own.
    run_server.get("/xff-probe/", headers={"X-Forwarded-For": "6.6.6.6"})
    line = access_line(run_server, "/xff-probe/")
    assert "6.6.6.6" not in line
    assert "127.0.0.1" in line


def failed_login(server: RunServer, forwarded_for: str) -> int:
    """One wrong password for ``admin`` claiming to come from ``forwarded_for``; the status."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    with opener.open(server.base_url + "/accounts/login/", timeout=10) as response:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.read().decode())
    form = {"username": "admin", "password": "wrong", "csrfmiddlewaretoken": token.group(1)}
    request = urllib.request.Request(
        server.base_url + "/accounts/login/",
        data=urllib.parse.urlencode(form).encode(),
        headers={"X-Forwarded-For": forwarded_for},
    )
    try:
        with opener.open(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_a_password_guesser_cannot_dodge_the_login_throttle_with_forwarded_for(run_server):
    # LOGIN_FAILURE_LIMIT=3: the third wrong password for one account from one address gets
    # the lockout page, and the address is the connection's, not the one each request claims.
    statuses = [failed_login(run_server, f"6.6.6.{n}") for n in (1, 2, 3)]
    assert statuses == [200, 200, 429]


def test_behind_a_proxy_the_login_throttle_counts_the_forwarded_address(run_server_behind_proxy):
    statuses = [failed_login(run_server_behind_proxy, f"6.6.6.{n}") for n in (1, 2, 3)]
    assert statuses == [200, 200, 200]


def test_forwarded_for_names_the_client_behind_a_proxy(run_server_behind_proxy):
    run_server_behind_proxy.get("/xff-probe/", headers={"X-Forwarded-For": "6.6.6.6"})
    line = access_line(run_server_behind_proxy, "/xff-probe/")
    assert "6.6.6.6" in line
