"""Settings: defaults, TROVE_* environment variables, a TOML file named by TROVE_CONFIG, and
errors that name the setting (one line and exit code 2 from the CLI, never a traceback).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from trove.config import Settings, SettingsError, load_settings


def toml(tmp_path: Path, text: str) -> str:
    path = tmp_path / "trove.toml"
    path.write_text(text)
    return str(path)


def test_defaults_keep_everything_under_the_data_dir_and_serve_on_localhost(tmp_path):
    settings = load_settings(environ={"XDG_DATA_HOME": str(tmp_path)})

    assert settings == Settings()  # built from defaults alone
    assert (settings.host, settings.port, settings.include_hidden) == ("127.0.0.1", 8000, False)
    data_dir = settings.data_dir
    assert settings.resolved_cache_dir == data_dir / "cache"
    assert settings.resolved_upload_dir == data_dir / "uploads"
    assert settings.resolved_database_url == f"sqlite:///{data_dir / 'trove.db'}"
    assert settings.is_sqlite


def test_environment_variables_set_each_setting_with_its_type(tmp_path):
    settings = load_settings(
        environ={
            "TROVE_DATA_DIR": str(tmp_path / "data"),
            "TROVE_CACHE_DIR": "~/trove-cache",
            "TROVE_DATABASE_URL": "postgresql://trove@db.example/trove",
            "TROVE_HOST": "0.0.0.0",
            "TROVE_PORT": "9001",
            "TROVE_INCLUDE_HIDDEN": "yes",
            "TROVE_HASH_WORKERS": "8",
        }
    )

    assert settings.data_dir == tmp_path / "data"
    assert settings.resolved_cache_dir == Path.home() / "trove-cache"  # ~ is expanded
    assert settings.resolved_database_url == "postgresql://trove@db.example/trove"
    assert not settings.is_sqlite
    assert (settings.host, settings.port, settings.hash_workers) == ("0.0.0.0", 9001, 8)
    assert settings.include_hidden is True


@pytest.mark.parametrize(
    ("text", "value"),
    [("1", True), ("true", True), ("On", True), ("0", False), ("no", False), ("off", False)],
)
def test_boolean_settings_accept_the_usual_spellings(text, value):
    assert load_settings(environ={"TROVE_INCLUDE_HIDDEN": text}).include_hidden is value


def test_an_empty_environment_variable_means_the_default():
    assert load_settings(environ={"TROVE_PORT": "", "TROVE_HOST": ""}).port == 8000


def test_a_toml_file_named_by_trove_config_is_read_and_the_environment_wins_over_it(tmp_path):
    lines = [f'data_dir = "{tmp_path / "from-file"}"', "port = 8100", 'host = "::1"']
    config = toml(tmp_path, "\n".join([*lines, "include_hidden = true", ""]))

    from_file = load_settings(environ={"TROVE_CONFIG": config})
    env_wins = load_settings(environ={"TROVE_CONFIG": config, "TROVE_PORT": "8200"})
    option_wins = load_settings(environ={"TROVE_CONFIG": config, "TROVE_PORT": "8200"}, port=8300)

    assert from_file.data_dir == tmp_path / "from-file"
    assert (from_file.port, from_file.host, from_file.include_hidden) == (8100, "::1", True)
    assert (env_wins.port, env_wins.host) == (8200, "::1")
    assert option_wins.port == 8300


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"TROVE_PORT": "eighty"}, "TROVE_PORT: 'eighty' is not a valid int"),
        ({"TROVE_HASH_WORKERS": "2.5"}, "TROVE_HASH_WORKERS: '2.5' is not a valid int"),
        ({"TROVE_INCLUDE_HIDDEN": "maybe"}, "TROVE_INCLUDE_HIDDEN: 'maybe' is not a valid bool"),
    ],
)
def test_a_bad_environment_value_is_an_error_naming_the_setting(environ, named):
    with pytest.raises(SettingsError) as error:
        load_settings(environ=environ)

    assert str(error.value) == named


def test_a_bad_value_in_the_toml_file_is_an_error_naming_the_setting(tmp_path):
    config = toml(tmp_path, 'port = "eighty"\n')

    with pytest.raises(SettingsError, match=r"^TROVE_PORT: 'eighty' is not a valid int$"):
        load_settings(environ={"TROVE_CONFIG": config})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("port = \n", "is not valid TOML"),
        ('colour = "blue"\nport = 1\n', r"unknown setting\(s\) in .*: colour"),
    ],
)
def test_a_broken_or_misspelt_toml_file_is_an_error_naming_trove_config(tmp_path, text, message):
    config = toml(tmp_path, text)

    with pytest.raises(SettingsError, match=f"^TROVE_CONFIG: .*{message}"):
        load_settings(environ={"TROVE_CONFIG": config})


def test_a_missing_toml_file_is_an_error_naming_trove_config(tmp_path):
    with pytest.raises(SettingsError, match=r"^TROVE_CONFIG: cannot read .*nope\.toml"):
        load_settings(environ={"TROVE_CONFIG": str(tmp_path / "nope.toml")})


@pytest.mark.parametrize("port", ["0", "-1", "70000"])
def test_a_port_outside_1_to_65535_is_an_error_naming_the_setting(port):
    with pytest.raises(SettingsError, match="TROVE_PORT"):
        load_settings(environ={"TROVE_PORT": port})


def test_a_toml_boolean_is_not_accepted_as_a_port(tmp_path):
    with pytest.raises(SettingsError, match="TROVE_PORT"):
        load_settings(environ={"TROVE_CONFIG": toml(tmp_path, "port = true\n")})


# --- the command line -----------------------------------------------------------------------


def trove(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TROVE_")}
    environ.update(TROVE_DATA_DIR=str(tmp_path / "data"), **env)
    return subprocess.run(
        [sys.executable, "-m", "trove", *args],
        cwd=tmp_path,  # `trove scan .` must never scan the checkout
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "args", [("status",), ("scan", "."), ("scan", ".", "--json", "--no-wait"), ("ls",)]
)
def test_the_cli_with_a_bad_trove_port_exits_2_with_one_line_naming_it(tmp_path, args):
    result = trove(tmp_path, *args, TROVE_PORT="eighty")

    assert result.returncode == 2
    assert result.stderr == "trove: TROVE_PORT: 'eighty' is not a valid int\n"
    assert result.stdout == ""
    assert not (tmp_path / "data").exists()  # failed before touching anything


def test_trove_serve_with_a_bad_trove_port_exits_2_without_a_traceback(tmp_path):
    result = trove(tmp_path, "serve", TROVE_PORT="eighty")

    assert result.returncode == 2
    assert "TROVE_PORT" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_cli_with_a_broken_config_file_exits_2_with_one_line_naming_it(tmp_path):
    result = trove(tmp_path, "status", TROVE_CONFIG=toml(tmp_path, "port = \n"))

    assert result.returncode == 2
    assert result.stderr.startswith("trove: TROVE_CONFIG: ")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("damage", ["not a database", "a folder"])
def test_the_cli_with_an_unusable_index_file_exits_2_with_one_line(tmp_path, damage):
    """A damaged index (a disk error, a half-copied backup) or a folder in its place is the
    environment's fault: one line naming it, no traceback, nothing written over it."""
    index = tmp_path / "data" / "trove.db"
    index.parent.mkdir()
    if damage == "a folder":
        index.mkdir()
    else:
        index.write_bytes(b"not SQLite at all\n" * 300)
    before = index.read_bytes() if index.is_file() else None
    result = trove(tmp_path, "scan", ".")

    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("trove: database error: "), result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert (index.read_bytes() if index.is_file() else None) == before
