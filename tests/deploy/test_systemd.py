"""The systemd units in deploy/systemd/ pass `systemd-analyze verify` as they are installed, and the
README's commands start the workers at boot and restart them one at a time."""

from __future__ import annotations

import re
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


# --- what the README's commands do with the units' dependencies ---------------------------------
#
# systemd itself cannot run here (no init of ours), so these tests read the units' dependency
# lines as systemd does and play the README's commands against them.

README = UNITS_DIR.parents[1] / "README.md"
# What a booting Debian server starts by itself.
BOOT_TARGETS = {"multi-user.target", "timers.target"}


def _unit_options(name: str) -> dict[str, set[str]]:
    """``Key`` to every unit named on a ``Key=`` line of unit ``name`` (an instance reads its
    template), across sections: enough for Wants/Requires/PartOf/WantedBy."""
    template = re.sub(r"@[^.]+\.", "@.", name)
    options: dict[str, set[str]] = {}
    for line in (UNITS_DIR / template).read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.startswith("#"):
            options.setdefault(key.strip(), set()).update(value.split())
    return options


def _full_name(unit: str) -> str:
    return unit if "." in unit else f"{unit}.service"


def _started_at_boot(enabled: list[str]) -> set[str]:
    """Units a boot starts once ``systemctl enable`` ran on ``enabled``: an enabled unit is
    wanted by the targets its ``WantedBy=`` names, and a started unit starts what it wants."""
    enabled = [_full_name(unit) for unit in enabled]
    started = set(BOOT_TARGETS)
    while True:
        more = {unit for unit in enabled if _unit_options(unit).get("WantedBy", set()) & started}
        for unit in started - BOOT_TARGETS:
            options = _unit_options(unit)
            more |= {u for u in options.get("Wants", set()) | options.get("Requires", set())}
        more = {u for u in more if (UNITS_DIR / re.sub(r"@[^.]+\.", "@.", u)).exists()}
        if more <= started:
            return started
        started |= more


def _readme_commands() -> list[str]:
    """Every line of the README's shell blocks, and every command in backquotes."""
    text = README.read_text()
    blocks = re.findall(r"^```sh\n(.*?)^```", text, flags=re.S | re.M)
    inline = re.findall(r"`([^`\n]*systemctl [^`\n]*)`", text)
    return [line for block in blocks for line in block.splitlines()] + inline


def _documented_enable() -> list[str]:
    lines = [line for line in _readme_commands() if line.startswith("systemctl enable --now meet")]
    lines = [line for line in lines if "meet@8001" in line]
    assert len(lines) == 1, lines
    return lines[0].split("#")[0].split()[3:]


def test_enabling_the_units_as_documented_starts_every_worker_at_boot():
    enabled = _documented_enable()
    started = _started_at_boot(enabled)
    assert {"meet@8001.service", "meet@8002.service", "meet-migrate.service"} <= started, enabled
    assert "meet-purge.timer" in started
    # The check can fail: enabling the workers alone only links them into meet.target, which
    # nothing starts at boot.
    without_target = [unit for unit in enabled if unit != "meet.target"]
    assert "meet@8001.service" not in _started_at_boot(without_target)


def test_no_documented_command_restarts_every_worker_at_once():
    commands = _readme_commands()
    # meet.target takes its workers down together (PartOf=meet.target).
    assert "PartOf" in _unit_options("meet@8001.service")
    assert not [c for c in commands if re.search(r"systemctl (re)?start\S* .*meet\.target", c)]
    upgrade = [c for c in commands if "meet-restart-workers" in c and "meet-migrate" in c]
    assert upgrade == ["systemctl restart meet-migrate && deploy/meet-restart-workers"]
    # Restarting meet-migrate must not restart the workers: a unit that Requires=, BindsTo= or is
    # PartOf= another is restarted with it.
    worker = _unit_options("meet@8001.service")
    for key in ("Requires", "BindsTo", "PartOf", "Requisite"):
        assert "meet-migrate.service" not in worker.get(key, set()), key
    # Yet a worker still waits for the migrations on start.
    assert {"meet-migrate.service"} <= worker["Wants"] & worker["After"]
