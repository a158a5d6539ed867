"""Project-wide checks: migrations match the models, health answers."""

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_models_have_no_missing_migrations():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.django_db
def test_healthz_answers_ok_when_database_and_layer_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok" and body["channel_layer"] == "ok"


def test_favicon_redirects_to_the_logo_so_admin_pages_load_without_a_404(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("img/logo.svg")


def test_no_event_loop_is_left_running_between_test_modules():
    # Browser modules stop Playwright (and its main-thread event loop) when they end; a loop
    # left running here would break every later test that calls asyncio.run.
    import asyncio

    with pytest.raises(RuntimeError):
        asyncio.get_running_loop()


def test_the_cache_keeps_the_sessions_of_a_thousand_person_join_storm():
    # Every admission reads its session through the cache (cached_db); the local cache's
    # default of 300 entries evicted the first pages' sessions before their sockets came.
    from django.core.cache import cache

    cache.clear()
    for index in range(1_000):
        cache.set(f"test-storm-{index}", index)
    assert cache.get("test-storm-0") == 0
    cache.clear()
