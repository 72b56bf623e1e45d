"""Export and import at their edges: the accounts restored as they were (the first admin stays
an admin), the files people name by mistake answered in one line, and an export holding
secrets never readable by others, whatever an earlier killed export left behind."""

from __future__ import annotations

import json
import os
import stat

import pytest

from tests.migrating import migrate_to
from trove.services.container import Services


def test_a_restored_first_admin_is_still_an_admin_with_the_other_accounts_as_they_were(
    settings, run_trove
):
    run_trove("users", "add", "alice", "--admin", input="first-password\n")
    run_trove("users", "add", "bob", input="second-password\n")
    run_trove("users", "disable", "bob")
    exported = settings.data_dir / "with-secrets.jsonl"
    run_trove("export", "--secrets", "--out", str(exported))
    before = json.loads(run_trove("users", "list", "--json").stdout)
    migrate_to(settings.resolved_database_url, "base", down=True)  # the index is lost

    report = json.loads(run_trove("import", str(exported), "--json").stdout)

    assert report["matched"]["user"] == 2 and report["unmatched"] == {}
    after = json.loads(run_trove("users", "list", "--json").stdout)
    assert _accounts(after) == _accounts(before)
    assert {u["name"]: u["role"] for u in after} == {"alice": "admin", "bob": "member"}


def _accounts(listed: list[dict]) -> list[tuple]:
    return sorted((u["name"], u["role"], u["disabled"], u.get("upload_quota")) for u in listed)


@pytest.mark.databases("sqlite")
def test_files_named_by_mistake_get_one_line_and_exit_status_2(settings, run_trove, tmp_path):
    folder = tmp_path / "a-folder"
    folder.mkdir()
    binary = tmp_path / "photos.jsonl.gz"
    binary.write_bytes(bytes(range(256)) * 4)
    mistakes = {
        ("import", str(tmp_path / "missing.jsonl")): "No such file or directory",
        ("import", str(folder)): "Is a directory",
        ("import", str(binary)): "is not a trove export: it is not UTF-8 text",
        ("export", "--out", str(folder)): "is a folder: give the file to write",
        ("backup", "--out", str(folder)): "is a folder: give the file to write",
    }
    for args, message in mistakes.items():
        result = run_trove(*args, check=False)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.startswith("trove: ") and message in result.stderr, result.stderr
        assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1
    assert list(folder.iterdir()) == []

    nested = tmp_path / "exports" / "2026" / "user-data.jsonl"
    run_trove("export", "--out", str(nested))  # its folders are made, as `backup` makes them
    assert json.loads(nested.read_text().splitlines()[0])["kind"] == "header"


@pytest.mark.databases("sqlite")
def test_an_export_with_secrets_is_private_even_over_a_readable_leftover(settings, tmp_path):
    out = tmp_path / "secret.jsonl"
    leftover = tmp_path / ".secret.jsonl.partial"  # an earlier export, killed mid-way
    leftover.write_text("half an export")
    leftover.chmod(0o644)
    services = Services.create(settings)
    try:
        services.user_data.export_to(out, secrets=True)
        assert stat.S_IMODE(out.stat().st_mode) == 0o600
        assert not leftover.exists()
        services.user_data.export_to(tmp_path / "plain.jsonl")
        assert stat.S_IMODE((tmp_path / "plain.jsonl").stat().st_mode) == 0o644 & ~_umask()
    finally:
        services.database.dispose()


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def test_an_export_cut_short_is_refused_whole_and_changes_nothing(settings, run_trove, tmp_path):
    """A copy of an export cut at a line's end imported what it held and said nothing of
    the rest; cut inside a line, it failed after applying the records before it. The end
    record (version 3) and a read of the whole file before applying any of it: one line,
    exit 2, nothing changed."""
    run_trove("users", "add", "alice", "--admin", input="first-password\n")
    run_trove("users", "add", "bob", input="second-password\n")
    exported = tmp_path / "user-data.jsonl"
    run_trove("export", "--out", str(exported))
    lines = exported.read_text().splitlines(keepends=True)
    assert json.loads(lines[-1]) == {"kind": "end", "records": len(lines) - 1}
    migrate_to(settings.resolved_database_url, "base", down=True)  # the index is lost
    cuts = {
        "at a line's end": "".join(lines[:-2]),
        "inside a line": "".join(lines)[: -len(lines[-1]) - 5],
    }
    for how, text in cuts.items():
        (tmp_path / "cut.jsonl").write_text(text)
        result = run_trove("import", str(tmp_path / "cut.jsonl"), check=False)
        assert result.returncode == 2, (how, result.stderr)
        assert result.stderr.count("\n") == 1 and "nothing was imported" in result.stderr, how
        assert json.loads(run_trove("users", "list", "--json").stdout) == [], how

    report = json.loads(run_trove("import", str(exported), "--json").stdout)
    assert report["matched"] == {"user": 2}
