"""Fixtures for the accounts tests: a private cache per test, so signup counts never leak."""

import pytest


@pytest.fixture(autouse=True)
def fresh_cache(settings, request):
    """A private in-memory cache: rate-limit counts from other tests (or Redis) never leak in."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": request.node.nodeid,
        }
    }
