"""The deployment examples in deploy/ stay in step with the code they start: every `trove`
command they run exists, and every TROVE_* setting they set is one Trove reads."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import yaml

from trove.cli import app
from trove.config import Settings

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
SETTINGS = {f"TROVE_{field.name.upper()}" for field in dataclasses.fields(Settings)}


def _commands() -> set[str]:
    return {command.name or command.callback.__name__ for command in app.registered_commands}


def _trove_invocations() -> list[list[str]]:
    """The argument lists of the compose services, the systemd units and the image's CMD."""
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    runs = [service["command"] for service in compose["services"].values() if "command" in service]
    runs = [run for run in runs if run[0] == "trove"]
    for unit in DEPLOY.glob("*.service"):
        runs += [
            line.split("=", 1)[1].split()
            for line in unit.read_text().splitlines()
            if line.startswith("ExecStart=")
        ]
    image_cmd = re.search(r"^CMD (\[.*\])$", (DEPLOY / "Containerfile").read_text(), re.M)
    assert image_cmd is not None
    return [*runs, json.loads(image_cmd.group(1))]


def test_every_trove_command_the_deploy_files_run_exists():
    runs = _trove_invocations()
    assert len(runs) >= 4
    for run in runs:
        assert Path(run[0]).name == "trove" and run[1] in _commands(), run


def test_every_setting_the_deploy_files_set_is_read_by_trove():
    named = set()
    for path in DEPLOY.iterdir():
        named |= set(re.findall(r"\bTROVE_[A-Z_]+", path.read_text()))
    assert named and named <= SETTINGS, named - SETTINGS


def test_only_the_web_server_keeps_the_images_http_healthcheck():
    services = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    for service in services.values():
        if service.get("command", [None])[0] != "trove":
            continue
        if service["command"][1] == "serve":
            assert "healthcheck" not in service  # the image's: it asks /api/dam/health
        else:
            assert service["healthcheck"] == {"disable": True}, service["command"]


def test_the_image_has_pg_dump_for_trove_backup():
    install = re.search(r"apt-get install (.*?)&&", (DEPLOY / "Containerfile").read_text(), re.S)
    assert install is not None
    assert "postgresql-client" in install.group(1).split()
