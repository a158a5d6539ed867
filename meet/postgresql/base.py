"""Django's PostgreSQL backend, whose pool checks a connection without a round trip.

With ``CONN_HEALTH_CHECKS`` Django's pool runs psycopg_pool's ``check_connection`` before lending
each connection: an empty query, a round trip to the server on every database call, which cost
more CPU than a statement of the admission (about 120 µs of a join's 5 ms, issue #14). What that
check is for is a connection the server has ended while it sat in the pool (a restart,
``pg_terminate_backend``, an idle timeout). PostgreSQL says goodbye when it ends a connection
(an error message, then end of file), so such a connection has something to read while idle,
and a connection in use a moment ago has nothing to read: polling the socket tells them apart
with no round trip. A connection with something to read, or one not checked for
``FULL_CHECK_AFTER_SECONDS`` (a peer gone without a goodbye, as across a network), still gets
psycopg_pool's full check. The settings choose this backend for PostgreSQL URLs.

Django is pinned to 5.2: ``pool`` below is Django 5.2's own, with the check replaced.
"""

from __future__ import annotations

import select
import time

import psycopg
from django.core.exceptions import ImproperlyConfigured
from django.db.backends.postgresql import base

# A connection lent within this long was working then; older ones pay for a round trip.
FULL_CHECK_AFTER_SECONDS = 30.0


def connection_check(conn) -> None:
    """psycopg_pool's ``check``: raise if ``conn`` is broken; a round trip only when in doubt."""
    from psycopg_pool import ConnectionPool

    now = time.monotonic()
    checked_at = getattr(conn, "_meet_checked_at", None)
    if conn.closed:
        raise psycopg.OperationalError("the connection is closed")
    if checked_at is not None and now - checked_at < FULL_CHECK_AFTER_SECONDS:
        poller = select.poll()
        poller.register(conn.fileno(), select.POLLIN | select.POLLPRI)
        if not poller.poll(0):
            conn._meet_checked_at = now
            return
    # Something to read (the server's goodbye, or a rare notice) or not checked for a while:
    # ask the server. A dead connection raises here and the pool replaces it.
    ConnectionPool.check_connection(conn)
    conn._meet_checked_at = now


class DatabaseWrapper(base.DatabaseWrapper):
    @property
    def pool(self):
        pool_options = self.settings_dict["OPTIONS"].get("pool")
        if self.alias == base.NO_DB_ALIAS or not pool_options:
            return None

        if self.alias not in self._connection_pools:
            if self.settings_dict.get("CONN_MAX_AGE", 0) != 0:
                raise ImproperlyConfigured("Pooling doesn't support persistent connections.")
            if pool_options is True:
                pool_options = {}
            try:
                from psycopg_pool import ConnectionPool
            except ImportError as err:
                raise ImproperlyConfigured(
                    "Error loading psycopg_pool module.\nDid you install psycopg[pool]?"
                ) from err

            connect_kwargs = self.get_connection_params()
            connect_kwargs["autocommit"] = True
            enable_checks = self.settings_dict["CONN_HEALTH_CHECKS"]
            pool = ConnectionPool(
                kwargs=connect_kwargs,
                open=False,
                configure=self._configure_connection,
                check=connection_check if enable_checks else None,
                **pool_options,
            )
            self._connection_pools.setdefault(self.alias, pool)

        return self._connection_pools[self.alias]
