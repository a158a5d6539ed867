"""Real daphne processes for end-to-end tests, each run against a fresh database of its own.

The suite's own database is pytest-django's, inside the test process; a live server is another
process, so it gets its own database: a SQLite file in a temporary folder, or a freshly created
PostgreSQL database when the suite runs with ``DATABASE_URL`` pointing at PostgreSQL.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tests.support import tools
from tests.support.processes import stop_process_group

PROJECT_DIR = Path(__file__).resolve().parents[2]
SECRET_KEY = "live-server-secret-" + "k" * 40


def session_key_for(user) -> str:
    """A real database session logged in as ``user``, as the login view would make; its key.

    In-process tests call this directly; ``LiveServers.create_users`` runs it inside the live
    server's own Django, against that server's database.
    """
    # Imported here because this module is also loaded where Django is not set up: the
    # benchmarks drive live servers from a plain Python process.
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


def _uses_postgres() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


@dataclass
class DaphneProcess:
    port: int
    process: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def base_url(self) -> str:
        return f"http://localhost:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://localhost:{self.port}"


@dataclass
class LiveServers:
    """One or more daphne processes sharing a database (and Redis, when asked for).

    ``extra_env`` reaches every process: TURN settings, ``ICE_TRANSPORT_POLICY`` and the like.
    ``server="uvicorn"`` runs uvicorn instead of daphne (the benchmark's comparison only).
    """

    workdir: Path
    count: int = 1
    redis: bool = False
    extra_env: dict[str, str] = field(default_factory=dict)
    # PostgreSQL even when the suite runs on SQLite (deployment tests: several workers).
    postgres: bool = False
    # Run daphne inside this network namespace (tests.support.janus.NetworkNamespace): SFU
    # tests, whose browsers and Janus live there too. Its database is SQLite (PostgreSQL and
    # Redis listen on the machine's loopback, which the namespace does not reach).
    namespace: object | None = None
    processes: list[DaphneProcess] = field(default_factory=list)
    # The ASGI application daphne serves (the benchmark also runs a plain Channels relay).
    application: str = "meet.asgi:application"
    # The ASGI server: "daphne" (meet's), or "uvicorn", which the benchmark measures beside it
    # (issue #14) and nothing else runs. daphne's adjustments in meet.asgi do not apply there.
    server: str = "daphne"
    database_url: str = ""
    _postgres_db: str = ""
    # One prefix for all of this set's processes (and run_python), so they share the layer.
    _layer_prefix: str = field(default_factory=lambda: "meet-test-" + secrets.token_hex(4))

    def __post_init__(self) -> None:
        if self.server not in ("daphne", "uvicorn"):
            raise ValueError(f"unknown ASGI server {self.server!r}: daphne or uvicorn")

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> LiveServers:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._create_database()
        try:
            self._manage("migrate", "--noinput", "-v", "0")
            self.processes = [DaphneProcess(port=tools.free_port()) for _ in range(self.count)]
            for index in range(self.count):
                self.start_process(index)
        except BaseException:
            # A process that never became healthy must not leave its siblings or the
            # PostgreSQL database behind: the caller gets no object to stop.
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for index in range(len(self.processes)):
            self.stop_process(index)
        self._drop_database()

    def start_process(self, index: int) -> DaphneProcess:
        proc = self.processes[index]
        proc.log_path = self.workdir / f"daphne-{index}.log"
        log = open(proc.log_path, "ab")  # noqa: SIM115 - the child owns it while it runs
        argv = self._server_argv(proc.port)
        if self.namespace is not None:
            argv = self.namespace.command(argv)
        proc.process = subprocess.Popen(
            argv,
            cwd=PROJECT_DIR,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self._wait_healthy(proc)
        return proc

    def _server_argv(self, port: int) -> list[str]:
        """The command line of one server process serving ``self.application`` on ``port``."""
        if self.server == "uvicorn":
            return [
                sys.executable,
                "-m",
                "uvicorn",
                # Its own choices (auto) with uvicorn[standard] installed: uvloop, httptools
                # and websockets' sans-I/O protocol.
                "--lifespan",
                "off",
                "--no-access-log",
                "--log-level",
                "warning",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--proxy-headers",
                self.application,
            ]
        return [
            sys.executable,
            "-m",
            "daphne",
            # As ./run and the systemd unit: daphne's own access log would write each URL
            # whole (invite and resume tokens included) and not as JSON; meet.access writes
            # one instead (meet/logs.py).
            "-v",
            "0",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "--proxy-headers",
            self.application,
        ]

    def stop_process(self, index: int, sig: int = signal.SIGTERM) -> None:
        stop_process_group(self.processes[index].process, sig)

    def kill_process(self, index: int) -> None:
        """SIGKILL: the process dies without running any disconnect handler."""
        self.stop_process(index, signal.SIGKILL)

    def restart_process(self, index: int) -> DaphneProcess:
        self.stop_process(index)
        return self.start_process(index)

    # -- environment ----------------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "PYTEST", "REDIS_URL", "TURN_", "STUN_"))
        }
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "meet.settings",
                "DJANGO_SECRET_KEY": SECRET_KEY,
                "DJANGO_DEBUG": "false",
                "DJANGO_HTTPS": "false",
                "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1",
                "DJANGO_STATIC_MANIFEST": "false",
                "WHITENOISE_USE_FINDERS": "true",
                "DATABASE_URL": self.database_url,
                "MEET_STATE_DIR": str(self.workdir),
                "LOG_LEVEL": "WARNING",
                "PYTHONUNBUFFERED": "1",
            }
        )
        if self.redis:
            env["REDIS_URL"] = tools.redis_url()
            env["CHANNEL_LAYER_PREFIX"] = self._layer_prefix
            # Cached counters (rate limits) must not leak between servers whose fresh
            # databases reuse the same user ids.
            env["CACHE_KEY_PREFIX"] = env["CHANNEL_LAYER_PREFIX"]
        env.update(self.extra_env)
        return env

    def _manage(self, *args: str, input_text: str | None = None) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=PROJECT_DIR,
            env=self.env(),
            input=input_text,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
        return result.stdout

    def run_python(self, code: str) -> str:
        """Run Python inside Django (``manage.py shell``) against this server's database."""
        return self._manage("shell", "-c", code)

    # -- data -----------------------------------------------------------------------------------

    def create_users(self, *usernames: str, staff: tuple[str, ...] = ()) -> dict[str, str]:
        """Create users (password ``pw-<username>-123``) and log each in.

        Returns each username's ``sessionid`` cookie value, ready for a browser or a socket.
        """
        spec = json.dumps({"users": list(usernames), "staff": list(staff)})
        code = f"""
import json
from django.contrib.auth import get_user_model
from tests.support.servers import session_key_for
spec = json.loads({spec!r})
User = get_user_model()
out = {{}}
for name in spec["users"]:
    user, _ = User.objects.get_or_create(username=name, defaults={{"display_name": name.title()}})
    user.set_password("pw-" + name + "-123")
    user.is_staff = user.is_superuser = name in spec["staff"]
    user.save()
    out[name] = session_key_for(user)
print(json.dumps(out))
"""
        return json.loads(self.run_python(code).strip().splitlines()[-1])

    def create_room(self, owner: str, name: str, **fields) -> str:
        """Create a room owned by ``owner`` through the service; returns its slug."""
        code = f"""
import json
from django.contrib.auth import get_user_model
from rooms.services import room_create
owner = get_user_model().objects.get(username={owner!r})
room = room_create(owner=owner, name={name!r}, **json.loads({json.dumps(fields)!r}))
print(room.slug)
"""
        return self.run_python(code).strip().splitlines()[-1]

    # -- helpers --------------------------------------------------------------------------------

    @property
    def postgres_database(self) -> str:
        """The name of this set's PostgreSQL database ("" on SQLite)."""
        return self._postgres_db

    def url(self, path: str = "/", index: int = 0) -> str:
        return self.processes[index].base_url + path

    def _wait_healthy(self, proc: DaphneProcess, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.process is not None and proc.process.poll() is not None:
                raise RuntimeError(
                    f"daphne exited with {proc.process.returncode}:\n{proc.log_path.read_text()}"
                )
            try:
                if self.get(proc.base_url + "/healthz")[0] == 200:
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"daphne on port {proc.port} did not become healthy")

    def get(self, url: str, timeout: float = 2) -> tuple[int, str]:
        """GET ``url`` from where the servers listen (inside their namespace, if any)."""

        def fetch() -> tuple[int, str]:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                return response.status, response.read().decode()

        return self.namespace.call(fetch) if self.namespace is not None else fetch()

    def _create_database(self) -> None:
        if (self.postgres or _uses_postgres()) and self.namespace is None:
            self._postgres_db, self.database_url = tools.postgres_database_create("meet_live_")
        else:
            self.database_url = f"sqlite:///{self.workdir / 'live.sqlite3'}"

    def _drop_database(self) -> None:
        if not self._postgres_db:
            return
        tools.postgres_database_drop(self._postgres_db)
        self._postgres_db = ""
