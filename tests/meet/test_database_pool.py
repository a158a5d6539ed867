"""PostgreSQL connections of a live server: a bounded pool, not one connection per request.

Under ASGI a persistent connection (``CONN_MAX_AGE``) belongs to the async context that opened
it, so each page load and each join opened a connection of its own, left for the garbage
collector to close: a join storm made about one per join, and a burst could exhaust the
server's ``max_connections``. A watcher polls ``pg_stat_activity`` while the server serves
pages and joins, and counts the distinct connections it saw.
"""

from __future__ import annotations

import asyncio
import threading

import psycopg
import pytest

from tests.signaling.test_multiprocess import Client
from tests.support import tools
from tests.support.servers import LiveServers

pytestmark = pytest.mark.slow

PAGE_LOADS = 40
JOINS = 12
POOL_MAX = 6


class ConnectionWatcher:
    """The backend process ids PostgreSQL shows for one database, polled every few ms."""

    def __init__(self, database: str) -> None:
        self.database = database
        self.seen: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> ConnectionWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _watch(self) -> None:
        url = tools._libpq_url(tools.postgres_admin_url())
        with psycopg.connect(url, autocommit=True) as conn:
            while not self._stop.is_set():
                rows = conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s"
                    " AND backend_type = 'client backend'",
                    [self.database],
                ).fetchall()
                self.seen.update(pid for (pid,) in rows)
                self._stop.wait(0.005)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    servers = LiveServers(
        tmp_path_factory.mktemp("database-pool"),
        postgres=True,
        extra_env={"DATABASE_POOL_MIN_SIZE": "1", "DATABASE_POOL_MAX_SIZE": str(POOL_MAX)},
    ).start()
    yield servers
    servers.stop()


def _healthz(servers: LiveServers) -> int:
    return servers.get(servers.url("/healthz"), timeout=10)[0]


async def _joins(servers: LiveServers, slug: str, sessions: dict[str, str]) -> None:
    for name in sessions:
        client = await Client.open(servers, 0, slug, sessions[name])
        assert client.welcome["type"] == "welcome"
        await client.socket.close()


def test_page_loads_and_joins_share_a_bounded_pool_of_connections(server):
    users = [f"pool{index}" for index in range(JOINS)]
    sessions = server.create_users(*users)
    slug = server.create_room(users[0], "Pool")
    with ConnectionWatcher(server.postgres_database) as watcher:
        for _ in range(PAGE_LOADS):
            # Each health check reads the database: one page request each.
            assert _healthz(server) == 200
        asyncio.run(_joins(server, slug, sessions))
    # The pool's connections, and no more; before the pool it was about one per request.
    assert 1 <= len(watcher.seen) <= POOL_MAX, sorted(watcher.seen)


def test_the_first_requests_after_the_servers_connections_are_cut_still_succeed(server):
    users = ["cut0", "cut1"]
    sessions = server.create_users(*users)
    slug = server.create_room(users[0], "Cut")
    assert _healthz(server) == 200
    # What a database restart does to the pool's idle connections: PostgreSQL ends them.
    url = tools._libpq_url(tools.postgres_admin_url())
    with psycopg.connect(url, autocommit=True) as conn:
        ended = conn.execute(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND backend_type = 'client backend') AS ended",
            [server.postgres_database],
        ).fetchone()[0]
    assert ended >= 1
    # The pool checks each connection before lending it: no request pays for the dead ones.
    for _ in range(POOL_MAX + 2):
        assert _healthz(server) == 200
    asyncio.run(_joins(server, slug, sessions))
