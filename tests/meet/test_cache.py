"""The Redis cache shares its connections across the process's cache objects (meet/cache.py)."""

from __future__ import annotations

import redis
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache

from meet.cache import RedisCache
from tests.support import tools


def _connections_made(url: str) -> int:
    return redis.Redis.from_url(url).info("stats")["total_connections_received"]


def _read_through_new_cache_objects(backend, url: str, times: int) -> None:
    # Django makes a cache object per thread and async context: under ASGI, per database call.
    for index in range(times):
        cache = backend(url, {"KEY_PREFIX": "meet-test-cache"})
        cache.set("key", index)
        assert cache.get("key") == index


def test_cache_objects_of_one_process_share_one_connection():
    url = tools.redis_url()
    before = _connections_made(url)
    _read_through_new_cache_objects(RedisCache, url, times=20)
    # One for the shared pool, one for the count itself (another client of the machine's Redis
    # may add one: the Django case below makes twenty).
    assert _connections_made(url) - before <= 3


def test_djangos_own_cache_connects_again_for_each_object():
    # What the subclass is for: if Django fixes this, meet/cache.py can go.
    url = tools.redis_url()
    before = _connections_made(url)
    _read_through_new_cache_objects(DjangoRedisCache, url, times=20)
    assert _connections_made(url) - before >= 21


def test_different_servers_or_options_get_different_pools():
    url = tools.redis_url()
    first = RedisCache(url, {})._cache._get_connection_pool(write=True)
    again = RedisCache(url, {})._cache._get_connection_pool(write=True)
    other_db = RedisCache(tools.redis_url(db=1), {})._cache._get_connection_pool(write=True)
    other_options = RedisCache(url, {"OPTIONS": {"socket_timeout": 3}})._cache
    assert first is again
    assert other_db is not first
    assert other_options._get_connection_pool(write=True) is not first
