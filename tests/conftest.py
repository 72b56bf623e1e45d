"""Shared fixtures: a database-backed test runs against SQLite and PostgreSQL.

Both, because what it checks goes through SQL that differs between them (queries, listings,
search, access, the graph, imports, migrations, concurrent writers). A test whose subject is
the disk, a process or the wire, where the database only stores what it is told, says so with
`@pytest.mark.databases("sqlite")` (the embedded default; "postgresql" for what models a
deployment on several machines, such as workers killed behind Redis) and runs once: the suite
is shorter by a database's run of each, and loses no database-specific check.

PostgreSQL is the server this project's machines run on 127.0.0.1:5432 (trust auth, database
`test`). Each test gets its own database, cloned from a migrated template. Under CI the server
must be reachable: its absence fails the run instead of silently skipping half the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.command_launcher import SESSION, Launcher, session_launcher
from trove.config import Settings
from trove.db.database import Database
from trove.db.migrate import ensure_schema

PG_ADMIN_URL = os.environ.get("TROVE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
# One template per pytest process: xdist workers, and test runs from other checkouts on the same
# server, create theirs at the same time.
PG_TEMPLATE = f"trove_test_template_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getpid()}"
DATABASES = ("sqlite", "postgresql")
REPO = Path(__file__).resolve().parents[1]
# The browser tests' fixtures (one Chromium per worker, a context per test): tests/browser/.
pytest_plugins = ["tests.browser.fixtures"]
TROVE = REPO / ".venv" / "bin" / "trove"


def _pg_base() -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0]


def _pg_admin():  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str | None]:
    """A migrated database to clone per test, or None when PostgreSQL is absent (not in CI)."""
    try:
        admin = _pg_admin()
    except Exception as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required under CI and unreachable: {exc}")
        yield None
        return
    from trove.db.migrate import upgrade

    with admin:
        admin.execute(f"DROP DATABASE IF EXISTS {PG_TEMPLATE} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {PG_TEMPLATE}")
    upgrade(f"{_pg_base()}/{PG_TEMPLATE}")
    yield PG_TEMPLATE
    with _pg_admin() as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {PG_TEMPLATE} WITH (FORCE)")


def pytest_configure(config: pytest.Config) -> None:
    from tests import loopback_only

    loopback_only.install()


@pytest.hookimpl(tryfirst=True)
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`databases(...)`: the test's `database_url` takes only those (a parametrize mark, which
    pytest's own hooks then apply instead of the fixture's two params)."""
    marker = metafunc.definition.get_closest_marker("databases")
    if marker is None or "database_url" not in metafunc.fixturenames:
        return
    unknown = set(marker.args) - set(DATABASES)
    if not marker.args or unknown:
        raise pytest.UsageError(f"databases{marker.args}: pick from {DATABASES}")
    metafunc.definition.add_marker(
        pytest.mark.parametrize("database_url", marker.args, indirect=True)
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The PostgreSQL run of each database test carries the `postgresql` mark, and a test
    driving a real browser or a `trove` process the `slow` one, so the fast tier
    (`make test-fast`) can leave them to the full suite; a browser test gets one rerun."""
    for item in items:
        callspec = getattr(item, "callspec", None)  # only parametrized tests have one
        if callspec is not None and callspec.params.get("database_url") == "postgresql":
            item.add_marker(pytest.mark.postgresql)
        fixtures = set(getattr(item, "fixturenames", ()))
        if {"browser", "run_trove"} & fixtures:
            item.add_marker(pytest.mark.slow)
        if "browser" in fixtures and not item.get_closest_marker("flaky"):
            item.add_marker(BROWSER_RERUN)


# A browser test races a renderer and a server sharing two loaded cores, and the races its
# own code could close are closed (expect() for every read, no fixed sleeps). One rerun keeps
# CI meaningful; the summary names every rerun (-raR) and a failure that repeats still fails.
BROWSER_RERUN = pytest.mark.flaky(reruns=1)
# The first failure of each rerun test, shown at the end of the run: pytest-rerunfailures keeps
# only its name, and a flake seen once in CI could not be told apart from another.
_RERUN_FAILURES: list[pytest.TestReport] = []
RERUN_LINES = 60


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.outcome == "rerun":
        _RERUN_FAILURES.append(report)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for report in _RERUN_FAILURES:
        terminalreporter.write_sep("-", f"first failure of {report.nodeid} (passed on a rerun)")
        lines = report.longreprtext.splitlines()
        terminalreporter.write_line("\n".join(lines[-RERUN_LINES:]))


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'trove.db'}"
        return
    template = request.getfixturevalue("pg_template")
    if template is None:
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    name = f"trove_t_{uuid.uuid4().hex[:12]}"
    with _pg_admin() as admin:
        admin.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
    yield f"postgresql+psycopg://{_pg_base().split('://', 1)[1]}/{name}"
    with _pg_admin() as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    # TestClient sends `Host: testserver`; a real server answers only to names it is given.
    # Sign-in is off (one local user) for every test that is not about access: those build
    # their own settings with it on (tests/accounts.py).
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        hash_workers=2,
        allowed_hosts="testserver",
        auth=False,
    )


@pytest.fixture
def database(settings: Settings) -> Iterator[Database]:
    """The test's database at the current schema, disposed of afterwards."""
    ensure_schema(settings.resolved_database_url)
    database = Database(settings.resolved_database_url)
    yield database
    database.dispose()


def trove_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment that points a `trove` process at this test's database and data dir."""
    return {
        **os.environ,
        "TROVE_DATA_DIR": str(settings.data_dir),
        "TROVE_DATABASE_URL": settings.resolved_database_url,
        "TROVE_AUTH": "on" if settings.auth else "off",
        **extra,
    }


def imported_by(settings: Settings, *args: str) -> tuple[set[str], str]:
    """Run `python -m trove ARGS` under -X importtime: (modules it imported, its stdout)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "trove", *args],
        env=trove_env(settings),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    imported = {
        line.rsplit("|", 1)[1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    return imported, result.stdout


@pytest.fixture
def client(settings: Settings, library: Path):  # type: ignore[no-untyped-def]
    """The real ASGI app over the module's `library` fixture, its first scan finished."""
    from fastapi.testclient import TestClient

    from trove.app import create_app

    app = create_app(settings, roots=[str(library)])
    with TestClient(app, raise_server_exceptions=False) as test_client:
        assert app.state.services.indexer.wait_idle(60)
        yield test_client


@pytest.fixture(scope="session", autouse=True)
def command_launcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Launcher | None]:
    """Runs `trove` commands as forks of a process that imported Trove once
    (tests/command_launcher.py): a command's result is that of the `trove` executable, without
    its one to three seconds of imports. TROVE_TEST_FRESH_COMMANDS=1 runs each in a fresh
    interpreter."""
    if os.environ.get("TROVE_TEST_FRESH_COMMANDS") == "1" or not TROVE.exists():
        yield None
        return
    launcher = Launcher(tmp_path_factory.mktemp("launcher"))
    SESSION.append(launcher)
    yield launcher
    SESSION.clear()
    launcher.close()


@pytest.fixture
def run_trove(settings: Settings):  # type: ignore[no-untyped-def]
    """Run the real `trove` command line against this test's database and data dir."""

    def run(
        *args: str, check: bool = True, timeout: float = 120, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        env = trove_env(settings)
        launcher = session_launcher()
        if launcher is not None:
            result = launcher.run(list(args), env=env, timeout=timeout, input=input)
        else:
            command = [str(TROVE)] if TROVE.exists() else [sys.executable, "-m", "trove"]
            result = subprocess.run(
                [*command, *args],
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
                input=input,
            )
        if check and result.returncode != 0:
            raise AssertionError(
                f"trove {' '.join(args)} exited {result.returncode}\n"
                f"{result.stdout}\n{result.stderr}"
            )
        return result

    return run
