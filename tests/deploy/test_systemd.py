"""The systemd units in deploy/systemd/ pass `systemd-analyze verify` as they are installed."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import tools

UNITS_DIR = Path(__file__).resolve().parents[2] / "deploy" / "systemd"
UNITS = [
    "meet@.service",
    "meet-migrate.service",
    "meet.target",
    "meet-purge.service",
    "meet-purge.timer",
]


def _installed_copy(tmp_path: Path) -> list[Path]:
    """The units as installed, with ``/srv/meet``'s interpreter pointing at this one.

    `verify` checks that every ``ExecStart`` program exists; the deployment's virtual
    environment does not exist here, so the test's own interpreter stands in for it. The worker
    template is instantiated on a port, as ``systemctl enable meet@8001`` does.
    """
    paths = []
    for name in UNITS:
        text = (UNITS_DIR / name).read_text().replace("/srv/meet/.venv/bin/python", sys.executable)
        target = tmp_path / (name.replace("@.", "@8001.") if name == "meet@.service" else name)
        target.write_text(text)
        paths.append(target)
    return paths


def _verify(paths: list[Path]) -> subprocess.CompletedProcess:
    tools.require("systemd-analyze", bool(shutil.which("systemd-analyze")), "install systemd")
    return subprocess.run(
        ["systemd-analyze", "verify", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_every_unit_verifies_without_a_warning(tmp_path):
    result = _verify(_installed_copy(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout + result.stderr == ""


def test_verify_would_catch_a_broken_hardening_option(tmp_path):
    # The check above can fail: a misspelt value is reported.
    worker = _installed_copy(tmp_path)[0]
    worker.write_text(worker.read_text().replace("ProtectSystem=strict", "ProtectSystem=bogus"))
    assert "protect system" in _verify([worker]).stderr.lower()


@pytest.mark.parametrize(
    "option",
    [
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "Restart=on-failure",
        "User=meet",
        "CapabilityBoundingSet=",
    ],
)
def test_the_worker_runs_unprivileged_hardened_and_restarts_on_failure(option):
    assert option in (UNITS_DIR / "meet@.service").read_text().splitlines()


def test_each_worker_listens_on_loopback_on_its_own_port():
    text = (UNITS_DIR / "meet@.service").read_text()
    assert "--bind 127.0.0.1 --port %i" in text
    # Behind nginx the forwarded client address is trusted, and only there.
    assert "--proxy-headers" in text
    assert "DJANGO_BEHIND_PROXY=true" in text
