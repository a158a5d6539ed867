"""Django's Redis cache with its connection pools shared by the whole process.

Django keeps cache objects per thread and async context (``django.core.cache.caches``), and its
``RedisCacheClient`` keeps its connection pools on the object. Under ASGI each database call
(``sync_to_async``) runs in a fresh context, so every call made a new cache object, a new pool
and a new Redis connection, with redis-py's handshake and its package-metadata lookup: in a join
storm, where every admission reads its session through the cache, that was a third of the
server's time (issue #14; Django ticket #35651). Here the pools live in the process, one per
server address and options, and every cache object of the process borrows from them; a pool
hands each thread its own connection, as before.

Django also builds a new ``redis.Redis`` client object around the pool for every command
(``get_client``): redis-py's constructor (its response callbacks, its event dispatcher) was 5 %
of a join storm's samples with two processes over Redis, where each admission reads the session
and the chat history through the cache. A client object takes a connection from its pool per
command and is safe to share between threads (redis-py's documentation says so), so each pool
here has one.

``_get_connection_pool`` is private to Django; Django is pinned to 5.2 in ``pyproject.toml``.
On an upgrade, check it is still the one place that makes the pools and ``get_client`` the one
that makes client objects, or that the ticket's fix has landed (then this module can go).
"""

from __future__ import annotations

import functools
import threading

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient

# One (pool, client) per server address and options.
_POOLS: dict[tuple, tuple[object, object]] = {}
_POOLS_LOCK = threading.Lock()


class SharedPoolRedisCacheClient(RedisCacheClient):
    """Django's client, taking its pools and client objects from the process-wide registry."""

    @functools.cached_property
    def _options_key(self) -> str:
        """The pool options as part of the registry's key (fixed for this client object)."""
        return repr(sorted(self._pool_options.items()))

    def _get_connection_pool(self, write):
        return self._shared(write)[0]

    def get_client(self, key=None, *, write=False):
        return self._shared(write)[1]

    def _shared(self, write) -> tuple[object, object]:
        """The process's (pool, client) for the server this command goes to."""
        index = self._get_connection_pool_index(write)
        key = (self._pool_class, self._servers[index], self._options_key)
        shared = _POOLS.get(key)
        if shared is None:
            with _POOLS_LOCK:
                shared = _POOLS.get(key)
                if shared is None:
                    pool = self._pool_class.from_url(self._servers[index], **self._pool_options)
                    shared = _POOLS[key] = (pool, self._client(connection_pool=pool))
        return shared


class RedisCache(DjangoRedisCache):
    """``django.core.cache.backends.redis.RedisCache`` whose pools outlive the request."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = SharedPoolRedisCacheClient
