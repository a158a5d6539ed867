"""deploy/meet-restart-workers restarts the workers one at a time, each after the one before
answers its health check again.

systemd cannot run here, so a stand-in ``systemctl`` (first on PATH) lists two workers and, on
``restart meet@PORT.service``, stops that port's health server and starts it again a moment
later, as a restarted daphne would be. The health servers are real HTTP servers on loopback that
answer ``/healthz`` only for the site's own Host, as the workers do.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.support import tools
from tests.support.tools import free_port

SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "meet-restart-workers"

# A worker's health check: 200 for the site's Host, 400 for any other (Django's ALLOWED_HOSTS).
HEALTH_SERVER = textwrap.dedent(
    """
    import http.server, sys
    port, host, log = int(sys.argv[1]), sys.argv[2], sys.argv[3]

    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            ok = self.path == "/healthz" and self.headers.get("Host") == host
            self.send_response(200 if ok else 400)
            self.end_headers()
            if ok:
                with open(log, "a") as out:
                    out.write(f"healthy {port}\\n")

        def log_message(self, *args):
            pass

    http.server.HTTPServer(("127.0.0.1", port), Health).serve_forever()
    """
)

# systemctl: list the running workers; restart one = stop its server, start it after a delay
# (never, for a port named in $NEVER_BACK). Every call is written to the log.
SYSTEMCTL = textwrap.dedent(
    """\
    #!/bin/sh
    echo "systemctl $*" >> "$LOG"
    case "$1" in
    list-units)
        for port in $PORTS; do echo "meet@$port.service loaded active running meet worker"; done
        ;;
    restart)
        port="${2#meet@}"; port="${port%.service}"
        # As systemd does, the old process is gone before restart returns.
        pid="$(cat "$DIR/$port.pid")"; kill "$pid"
        while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
        case " $NEVER_BACK " in *" $port "*) exit 0 ;; esac
        # Detached from the script's output, which the test reads to its end.
        (sleep 1.5; "$PYTHON" "$DIR/health.py" "$port" "$SITE" "$LOG" &
         echo $! > "$DIR/$port.pid") >/dev/null 2>&1 &
        ;;
    esac
    """
)


@pytest.fixture
def workers(tmp_path):
    """Two health servers and the stand-in systemctl; yields the environment for the script."""
    tools.require("curl", bool(shutil.which("curl")), "install curl")
    (tmp_path / "health.py").write_text(HEALTH_SERVER)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "systemctl").write_text(SYSTEMCTL)
    (bin_dir / "systemctl").chmod(0o755)
    (tmp_path / "meet.env").write_text("DJANGO_ALLOWED_HOSTS=meet.example.org,other.example\n")
    ports = [free_port(), free_port()]
    log = tmp_path / "log"
    log.touch()
    for port in ports:
        # Started by a shell that exits at once, like the restarted ones: never a child of this
        # process, which would keep it as a zombie that `kill -0` still finds.
        subprocess.run(
            [
                "sh",
                "-c",
                f'"$0" "$1" {port} meet.example.org "$2" >/dev/null 2>&1 & echo $! > "$3"',
                sys.executable,
                str(tmp_path / "health.py"),
                str(log),
                str(tmp_path / f"{port}.pid"),
            ],
            check=True,
        )
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "PORTS": " ".join(map(str, ports)),
        "DIR": str(tmp_path),
        "LOG": str(log),
        "SITE": "meet.example.org",
        "PYTHON": sys.executable,
        "MEET_ENV_FILE": str(tmp_path / "meet.env"),
        "MEET_RESTART_TIMEOUT": "10",
        "NEVER_BACK": "",
    }
    _wait_listening(ports)
    yield env, ports, log
    # By the script's path: a pid file can be written a moment after its server started.
    subprocess.run(["pkill", "-f", str(tmp_path / "health.py")], check=False)


def _wait_listening(ports: list[int]) -> None:
    import socket

    deadline = time.monotonic() + 10
    for port in ports:
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert time.monotonic() < deadline, f"health server on {port} did not start"
                time.sleep(0.05)


def _run(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_each_worker_is_restarted_only_after_the_one_before_is_healthy_again(workers):
    env, (first, second), log = workers
    result = _run(env)
    assert result.returncode == 0, result.stderr
    events = [line for line in log.read_text().splitlines() if not line.startswith("systemctl l")]
    # The first worker restarted, answered again (for the site's own Host), then the second.
    first_back = events.index(f"healthy {first}")
    assert events.index(f"systemctl restart meet@{first}.service") < first_back
    assert first_back < events.index(f"systemctl restart meet@{second}.service")
    assert events[-1] == f"healthy {second}"
    assert f"meet@{second}.service is back." in result.stdout


def test_a_worker_that_does_not_come_back_stops_the_restarts_with_a_clear_error(workers):
    env, (first, second), log = workers
    env = {**env, "NEVER_BACK": str(first), "MEET_RESTART_TIMEOUT": "3"}
    result = _run(env)
    assert result.returncode == 1
    assert f"meet@{first}.service did not answer" in result.stderr
    assert f"journalctl -u meet@{first}.service" in result.stderr
    # The other worker still serves the calls: it was not touched.
    assert f"systemctl restart meet@{second}.service" not in log.read_text()


def test_no_running_worker_is_an_error(workers):
    env, _ports, _log = workers
    result = _run({**env, "PORTS": ""})
    assert result.returncode == 1
    assert "no meet@PORT worker is running" in result.stderr
