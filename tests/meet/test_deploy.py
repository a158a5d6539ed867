"""Production configuration by environment alone passes Django's deployment checks."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]


def production_env(tmp_path, **overrides) -> dict[str, str]:
    # Only the production variables: nothing from the test run (settings module, keys) leaks in.
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "meet.settings",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "meet.example.org",
            "MEET_STATE_DIR": str(tmp_path),
        }
    )
    env.pop("DATABASE_URL", None)
    env.update(overrides)
    return env


def manage(env, *args):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_reports_nothing_under_production_environment(tmp_path):
    result = manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_fails_when_https_is_turned_off_in_production(tmp_path):
    # Proves the check above can fail: without HTTPS the secure-cookie and HSTS checks fire.
    env = production_env(tmp_path, DJANGO_HTTPS="false")
    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert "security.W012" in result.stderr or "security.W012" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = production_env(tmp_path)
    del env["DJANGO_SECRET_KEY"]
    result = manage(env, "check")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required" in result.stderr


# --- The README's production example, run the way `./run manage check --deploy` runs it ----------

README = PROJECT_DIR / "README.md"


def readme_production_example() -> tuple[str, str]:
    """The README's production block: its `export` statement and its check command."""
    text = README.read_text()
    start = text.index("A production server, for example")
    block_start = text.index("```sh\n", start) + len("```sh\n")
    block = text[block_start : text.index("```", block_start)]
    lines = block.splitlines()
    check_index = next(i for i, line in enumerate(lines) if "manage check --deploy" in line)
    exports = "\n".join(lines[:check_index])
    check_command = lines[check_index].split("#")[0].strip()
    return exports, check_command


def run_script(script: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run bash lines with ./run's functions loaded, its venv step skipped (the tests' venv)."""
    preamble = "source ./run\nensure_venv() { :; }\n"
    return subprocess.run(
        ["bash", "-c", preamble + script],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def clean_env(tmp_path) -> dict[str, str]:
    """The test process's environment without any of meet's settings, state in ``tmp_path``."""
    prefixes = ("DJANGO_", "DATABASE_", "REDIS_", "TURN_", "STUN_", "MEET_", "PYTEST", "CSRF_")
    env = {key: value for key, value in os.environ.items() if not key.startswith(prefixes)}
    env["MEET_STATE_DIR"] = str(tmp_path / "state")
    return env


def test_readme_production_example_passes_check_deploy(tmp_path):
    exports, check_command = readme_production_example()
    assert exports.startswith("export ") and check_command == "./run manage check --deploy"
    # The README's "..." placeholders stand for secrets the operator makes up.
    exports = exports.replace("=...", "=" + secrets.token_urlsafe(50))
    command = check_command.replace("./run", "main", 1) + " --fail-level WARNING"
    result = run_script(f"{exports}\n{command}\n", clean_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
