"""Finding the real tools the suite runs against (Redis, PostgreSQL, Chromium, coturn).

Outside CI a missing tool skips its tests with a reason; with ``CI=true`` it fails them, so a
green CI run always means every real part was exercised.
"""

from __future__ import annotations

import os
import shutil
import socket

import pytest

REDIS_HOST = os.environ.get("TEST_REDIS_HOST", "127.0.0.1")
REDIS_PORT = int(os.environ.get("TEST_REDIS_PORT", "6379"))
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def require(tool: str, available: bool, detail: str = "") -> None:
    """Skip (locally) or fail (in CI) the calling test when ``tool`` is not available."""
    if available:
        return
    message = f"{tool} is not available{': ' + detail if detail else ''}"
    if in_ci():
        pytest.fail(f"{message} (CI=true: a missing tool is a failure, not a skip)")
    pytest.skip(message)


def _port_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def redis_url(db: int = 0) -> str:
    """The URL of the real Redis server, after making sure it answers PING."""
    answered = False
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            answered = sock.recv(16).startswith(b"+PONG")
    except OSError:
        pass
    require("Redis", answered, f"nothing answers PING on {REDIS_HOST}:{REDIS_PORT}")
    return f"redis://{REDIS_HOST}:{REDIS_PORT}/{db}"


def postgres_admin_url() -> str:
    """A URL to a PostgreSQL server where the suite may create and drop databases."""
    import psycopg

    try:
        with psycopg.connect(_libpq_url(POSTGRES_URL), connect_timeout=2) as conn:
            conn.execute("SELECT 1")
        ok = True
    except Exception as exc:  # noqa: BLE001 - any failure means the tool is missing
        ok, detail = False, str(exc)
    require("PostgreSQL", ok, "" if ok else detail)
    return POSTGRES_URL


def _libpq_url(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


def postgres_database_create(prefix: str) -> tuple[str, str]:
    """A new, empty database on the suite's PostgreSQL server: its name and its URL."""
    import secrets

    import psycopg

    admin = postgres_admin_url()
    name = prefix + secrets.token_hex(6)
    with psycopg.connect(_libpq_url(admin), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, admin.rsplit("/", 1)[0] + "/" + name


def postgres_database_drop(name: str) -> None:
    """Drop a database ``postgres_database_create`` made, ending its open connections."""
    import psycopg

    with psycopg.connect(_libpq_url(postgres_admin_url()), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def chromium_path() -> str:
    require(
        "Chromium", os.path.exists(CHROMIUM_PATH), f"{CHROMIUM_PATH} (apt-get install chromium)"
    )
    return CHROMIUM_PATH


def turnserver_path() -> str:
    path = shutil.which("turnserver") or "/usr/bin/turnserver"
    require("coturn", os.path.exists(path), "turnserver (apt-get install coturn)")
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
