"""meet's PostgreSQL pool check (meet/postgresql/base.py), against a real PostgreSQL server.

A connection used a moment ago is lent without a round trip; one the server has ended, or one
not checked for a while, gets psycopg_pool's full check, and a dead one is refused.
"""

from __future__ import annotations

import time

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from meet.postgresql import base
from tests.support import tools


@pytest.fixture
def conn():
    connection = psycopg.connect(tools._libpq_url(tools.postgres_admin_url()), autocommit=True)
    yield connection
    connection.close()


@pytest.fixture
def full_checks(monkeypatch) -> list:
    """Each call of psycopg_pool's round-trip check, recorded (it still runs)."""
    calls = []
    original = ConnectionPool.check_connection

    def recorded(conn):
        calls.append(conn)
        return original(conn)

    monkeypatch.setattr(ConnectionPool, "check_connection", staticmethod(recorded))
    return calls


def _server_pid(conn) -> int:
    return conn.execute("SELECT pg_backend_pid()").fetchone()[0]


def test_a_connection_seen_for_the_first_time_gets_the_full_check(conn, full_checks):
    base.connection_check(conn)
    assert full_checks == [conn]


def test_a_connection_checked_a_moment_ago_is_lent_without_a_round_trip(conn, full_checks):
    base.connection_check(conn)
    conn.execute("SELECT 1").fetchone()  # Used, then back in the pool.
    base.connection_check(conn)
    base.connection_check(conn)
    assert full_checks == [conn]


def test_a_connection_the_server_ended_is_refused(conn, full_checks):
    base.connection_check(conn)
    pid = _server_pid(conn)
    with psycopg.connect(tools._libpq_url(tools.postgres_admin_url()), autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]
    # The server's goodbye reaches the socket: it has something to read.
    deadline = time.monotonic() + 5
    with pytest.raises(psycopg.OperationalError):
        while time.monotonic() < deadline:
            base.connection_check(conn)
            time.sleep(0.01)
    assert full_checks[-1] is conn
    assert conn.closed


def test_a_connection_not_checked_for_a_while_gets_the_full_check(conn, full_checks, monkeypatch):
    base.connection_check(conn)
    monkeypatch.setattr(
        base.time, "monotonic", lambda: conn._meet_checked_at + base.FULL_CHECK_AFTER_SECONDS + 1
    )
    base.connection_check(conn)
    assert full_checks == [conn, conn]


def test_a_closed_connection_is_refused_at_once(conn, full_checks):
    base.connection_check(conn)
    conn.close()
    with pytest.raises(psycopg.OperationalError):
        base.connection_check(conn)
    assert full_checks == [conn]
