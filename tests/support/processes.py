"""Child processes and local ports for the real servers the suite starts (daphne, coturn).

Each server is started in its own process group (``start_new_session=True``) and stopped through
that group, so whatever it started stops with it and nothing else on the machine is touched.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from pathlib import Path

LOOPBACK = "127.0.0.1"
STOP_TIMEOUT = 10.0


def stop_process_group(
    process: subprocess.Popen | None, sig: int = signal.SIGTERM, timeout: float = STOP_TIMEOUT
) -> None:
    """Send ``sig`` to ``process``'s group and wait for it to exit.

    A group still alive after ``timeout`` seconds gets SIGKILL. A process never started or
    already gone is left alone, so stopping twice is harmless.
    """
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)


def port_is_free(port: int, *, udp: bool = False, host: str = LOOPBACK) -> bool:
    """Whether a TCP (or, with ``udp``, UDP) socket can bind ``host:port`` right now."""
    kind = socket.SOCK_DGRAM if udp else socket.SOCK_STREAM
    with socket.socket(socket.AF_INET, kind) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


class ManagedServer:
    """A server the suite runs in a process group of its own, with its output in ``workdir``.

    Subclasses say how to prepare (write a configuration), the command to run and how to know
    it is ready (``wait_until_answering``); this class starts, stops and kills it, and a start
    that never becomes ready stops what it started. Used as a context manager, it is stopped on
    the way out.
    """

    workdir: Path
    output_name = "server.stdout"
    process: subprocess.Popen | None = None

    def prepare(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)

    def command(self) -> list[str]:
        raise NotImplementedError

    def wait_until_answering(self) -> None:
        raise NotImplementedError

    def start(self):
        self.prepare()
        with open(self.workdir / self.output_name, "ab") as output:
            self.process = subprocess.Popen(
                self.command(),
                cwd=self.workdir,
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        try:
            self.wait_until_answering()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        process, self.process = self.process, None
        stop_process_group(process, sig)

    def kill(self) -> None:
        """SIGKILL, as a crash would end it."""
        self.stop(signal.SIGKILL)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def output_text(self, *logs: Path) -> str:
        """What it printed, then the tail of each log file given."""
        parts = []
        for path in (self.workdir / self.output_name, *logs):
            if path.exists():
                parts.append(path.read_text(errors="replace")[-20000:])
        return "\n".join(parts)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
