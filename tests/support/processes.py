"""Child processes and local ports for the real servers the suite starts (daphne, coturn).

Each server is started in its own process group (``start_new_session=True``) and stopped through
that group, so whatever it started stops with it and nothing else on the machine is touched.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess

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
