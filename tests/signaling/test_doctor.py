"""``manage.py doctor`` against a good deployment and against each broken piece.

The command runs as a self-hoster runs it: a separate process whose settings come from the
environment alone, checking real Redis, a real coturn (a relay is allocated) and a real Janus
(a room is created and destroyed).
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from signaling.doctor import parse_turn_url
from tests.support import tools
from tests.support.coturn import Coturn
from tests.support.janus import Janus

PROJECT_DIR = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.coturn, pytest.mark.janus, pytest.mark.redis]


@pytest.fixture(scope="module")
def coturn(tmp_path_factory):
    with Coturn(tmp_path_factory.mktemp("coturn"), secrets=["doctor-secret"]) as server:
        yield server


@pytest.fixture(scope="module")
def janus(tmp_path_factory):
    with Janus(tmp_path_factory.mktemp("janus")) as server:
        yield server


@pytest.fixture
def postgres_database():
    name, url = tools.postgres_database_create("meet_doctor_")
    yield url
    tools.postgres_database_drop(name)


@pytest.fixture
def production_env(tmp_path, coturn, janus, postgres_database):
    """A production-like environment that passes every check: the base the tests break."""
    state = tmp_path / "state"
    state.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "TURN_", "JANUS_", "REDIS_", "DATABASE_"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "meet.settings",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "meet.example.org",
            "CSRF_TRUSTED_ORIGINS": "https://meet.example.org",
            "DJANGO_HTTPS": "true",
            "DJANGO_BEHIND_PROXY": "true",
            "MEET_STATE_DIR": str(state),
            "REDIS_URL": tools.redis_url(),
            "CHANNEL_LAYER_PREFIX": f"doctor-{secrets.token_hex(4)}",
            "LOG_LEVEL": "ERROR",
            **coturn.environment(),
            **janus.environment(),
        }
    )
    # PostgreSQL, as production: SQLite beside REDIS_URL is itself reported as a problem.
    env["DATABASE_URL"] = postgres_database
    _manage(env, "migrate", "--noinput", "-v", "0", check=True)
    return env


def _manage(env: dict, *args: str, check: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(PROJECT_DIR / "manage.py"), *args],
        env=env,
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=check,
    )


def _doctor(env: dict) -> tuple[int, dict[str, str]]:
    """The exit code, and each checked thing's status (FAIL wins when a name has several)."""
    result = _manage(env, "doctor")
    lines: dict[str, str] = {}
    for line in result.stdout.splitlines():
        match = re.match(r"^(OK|FAIL|SKIP)\s+(.+?): ", line)
        if match and lines.get(match[2]) != "FAIL":
            lines[match[2]] = match[1]
    return result.returncode, lines | {"_output": result.stdout + result.stderr}


def test_a_good_deployment_passes_every_check(production_env, coturn, janus):
    code, lines = _doctor(production_env)
    assert code == 0, lines["_output"]
    for name in ("settings", "database", "migrations", "redis", "channel layer"):
        assert lines[name] == "OK", lines["_output"]
    assert lines[f"turn {coturn.url}"] == "OK"
    assert lines[f"turn {coturn.tcp_url}"] == "OK"
    assert lines[f"janus {janus.url}"] == "OK"
    assert "Everything checked is fine." in lines["_output"]


def test_a_wrong_turn_secret_is_named_with_the_fix(production_env, coturn):
    production_env["TURN_SECRET"] = "not-the-secret-coturn-has"
    code, lines = _doctor(production_env)
    assert code == 1
    assert lines[f"turn {coturn.url}"] == "FAIL"
    assert "401" in lines["_output"]
    assert "static-auth-secret" in lines["_output"]
    assert lines["redis"] == "OK"


def test_redis_down_is_named_with_the_fix(production_env):
    production_env["REDIS_URL"] = f"redis://127.0.0.1:{tools.free_port()}/0"
    code, lines = _doctor(production_env)
    assert code == 1
    assert lines["redis"] == "FAIL"
    assert lines["channel layer"] == "FAIL"
    assert "Fix: start Redis, or correct REDIS_URL." in lines["_output"]


def test_a_wrong_janus_api_secret_is_named_with_the_fix(production_env, janus):
    production_env["JANUS_API_SECRET"] = "wrong"
    code, lines = _doctor(production_env)
    assert code == 1
    assert lines[f"janus {janus.url}"] == "FAIL"
    assert "JANUS_API_SECRET" in lines["_output"]


def test_a_wrong_janus_admin_key_is_named_with_the_fix(production_env, janus):
    production_env["JANUS_ADMIN_KEY"] = "wrong"
    code, lines = _doctor(production_env)
    assert code == 1
    assert lines[f"janus {janus.url}"] == "FAIL"
    assert "JANUS_ADMIN_KEY" in lines["_output"]


def test_janus_down_is_named_with_the_fix(production_env):
    production_env["JANUS_URLS"] = f"ws://127.0.0.1:{tools.free_port()}"
    code, lines = _doctor(production_env)
    assert code == 1
    assert "Fix: start Janus, or correct JANUS_URLS." in lines["_output"]


def test_unsafe_settings_are_reported(production_env):
    production_env["DJANGO_HTTPS"] = "false"
    code, lines = _doctor(production_env)
    assert code == 1
    assert lines["settings"] == "FAIL"
    assert "security.W008" in lines["_output"]


def test_the_public_url_must_be_https(production_env):
    result = _manage(production_env, "doctor", "--url", "http://meet.example.org")
    assert result.returncode == 1
    assert "is not an https:// URL" in result.stdout


@pytest.mark.parametrize(
    ("url", "parsed"),
    [
        ("turn:turn.example.org:3478?transport=udp", ("turn", "turn.example.org", 3478, "udp")),
        ("turn:turn.example.org:3478?transport=tcp", ("turn", "turn.example.org", 3478, "tcp")),
        ("turns:turn.example.org:5349?transport=tcp", ("turns", "turn.example.org", 5349, "tcp")),
        ("turn:turn.example.org", ("turn", "turn.example.org", 3478, "udp")),
        ("turn:[::1]:3478?transport=udp", ("turn", "::1", 3478, "udp")),
    ],
)
def test_turn_urls_are_read_as_coturn_and_browsers_read_them(url, parsed):
    assert parse_turn_url(url) == parsed
