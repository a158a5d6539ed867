"""A private redis-server for tests that must stop Redis mid-call.

The machine's Redis (6379) is shared by every test run and must never be stopped, so a test that
simulates an outage starts its own server on a free port, stops it, and starts it again on the
same port (clients reconnect to the same address).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support import tools
from tests.support.processes import LOOPBACK, stop_process_group


def redis_server_path() -> str:
    path = shutil.which("redis-server") or "/usr/bin/redis-server"
    tools.require("redis-server", Path(path).exists(), "apt-get install redis-server")
    return path


@dataclass
class RedisServer:
    """One redis-server process without persistence, stoppable and restartable on one port."""

    workdir: Path
    port: int = 0
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://{LOOPBACK}:{self.port}/0"

    def start(self, timeout: float = 10) -> RedisServer:
        if not self.port:
            self.port = tools.free_port()
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = open(self.workdir / f"redis-{self.port}.log", "ab")  # noqa: SIM115 - child owns it
        self.process = subprocess.Popen(
            [
                redis_server_path(),
                "--port",
                str(self.port),
                "--bind",
                LOOPBACK,
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.answers():
                return self
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode}")
            time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {self.port} did not answer PING")

    def stop(self) -> None:
        stop_process_group(self.process)
        self.process = None

    def answers(self) -> bool:
        try:
            with socket.create_connection((LOOPBACK, self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False
