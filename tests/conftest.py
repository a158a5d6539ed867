"""Fixtures shared by the whole suite: factories, live daphne servers and Chromium."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import pytest

from tests.support import tools
from tests.support.browser import CHROMIUM_ARGS
from tests.support.servers import LiveServers

# The SFU browser tests' fixtures (namespace, Janus, Chromium inside the namespace).
pytest_plugins = ["tests.support.sfu"]

ARTIFACTS_DIR = Path(__file__).resolve().parent.parent / "test-artifacts"
_counter = itertools.count(1)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty in-process cache: rate-limit counts, cached chat history
    and the purge marker of one test must not leak into the next (whose rows may reuse ids)."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def make_user(db, django_user_model):
    """Create a user; the password is always ``pw-<username>-123``."""

    def make(username: str | None = None, **fields):
        username = username or f"user{next(_counter)}"
        fields.setdefault("display_name", username.title())
        user = django_user_model.objects.create_user(
            username=username, password=f"pw-{username}-123", **fields
        )
        return user

    return make


@pytest.fixture
def make_room(db, make_user):
    """Create a room through the service, with a fresh owner unless one is given."""
    from rooms.services import room_create

    def make(name: str = "Weekly Sync", owner=None, **fields):
        return room_create(owner=owner or make_user(), name=name, **fields)

    return make


@pytest.fixture
def live_servers(tmp_path_factory):
    """Start real daphne processes: ``live_servers(count=2, redis=True, extra_env={...})``."""
    started: list[LiveServers] = []

    def start(count: int = 1, redis: bool = False, extra_env: dict | None = None) -> LiveServers:
        servers = LiveServers(
            workdir=tmp_path_factory.mktemp("live"),
            count=count,
            redis=redis,
            extra_env=extra_env or {},
        )
        started.append(servers)
        return servers.start()

    yield start
    for servers in started:
        servers.stop()


@pytest.fixture(scope="module")
def chromium():
    """One headless Chromium per test module; tests open their own contexts.

    Module scope, not session scope: Playwright's sync API runs an event loop on the main
    thread while it is started, and every later test that calls ``asyncio.run`` would fail.
    """
    path = tools.chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=path, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()
    # Leaving the block stops Playwright's main-thread event loop; a loop still running here
    # would break every later test that calls asyncio.run.
    with pytest.raises(RuntimeError):
        asyncio.get_running_loop()


@pytest.fixture
def artifacts_dir() -> Path:
    """Where browser tests leave screenshots for a person to look at."""
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    return ARTIFACTS_DIR
