""" "Install" on an app package's card: the command the administrator configured
(`install_command`, e.g. `wine {path}` or a deployment script), run as an argument list —
never through a shell — by a TaskIQ task, with the installer's path put in for `{path}`.

The command comes from the settings only; a request names an asset, nothing else. With no
command configured the action does not exist (404) and the card hides it. The task's outcome
is kept on the asset as `metadata["install"]` (queued / ok / failed, with the reason).
"""

from __future__ import annotations

import asyncio
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trove.config import Settings
from trove.db.database import Database
from trove.domain.access import Viewer
from trove.domain.enums import AssetType
from trove.repositories._sql import utcnow
from trove.repositories.assets import AssetRepository
from trove.repositories.roots import RootRepository
from trove.services.errors import Forbidden, Invalid, NotFound
from trove.storage.originals import OriginalUnavailable, resolve
from trove.tools.run import ToolError, run_tool

NAMESPACE = "install"


def install_argv(template: str, path: Path) -> list[str]:
    """The configured command split like a shell would split it, `{path}` replaced in each
    argument (or the path added last when the command names no `{path}`); the path is one
    argument whatever characters its name holds."""
    try:
        parts = shlex.split(template)
    except ValueError as exc:
        raise Invalid(f"install_command cannot be split: {exc}") from exc
    if not parts:
        raise NotFound("no install command is configured")
    argv = [part.replace("{path}", str(path)) for part in parts]
    return argv if "{path}" in template else [*argv, str(path)]


@dataclass(frozen=True)
class InstallQueued:
    asset_id: str
    status: str


class InstallService:
    def __init__(self, settings: Settings, database: Database) -> None:
        self.settings = settings
        self.database = database
        self._broker: Any = None

    @property
    def available(self) -> bool:
        return bool(self.settings.install_command.strip())

    async def queue(self, asset_id: str, *, viewer: Viewer) -> InstallQueued:
        """Checks the package and sends the install task; returns at once."""
        if not self.available:
            raise NotFound("no install command is configured")
        if not viewer.is_admin:
            raise Forbidden("only an admin may run the install command")
        # The database calls run in a thread: this coroutine is on the server's event loop.
        argv = await asyncio.to_thread(self._argv, asset_id, viewer)
        await asyncio.to_thread(self._record, asset_id, "queued", None)
        broker = await self._started_broker()
        from trove.pipeline.tasks import INSTALL_TASK

        task = broker.find_task(INSTALL_TASK)
        await task.kiq(asset_id, argv)
        return InstallQueued(asset_id=asset_id, status="queued")

    def run(self, asset_id: str, argv: list[str]) -> dict[str, Any]:
        """The task's body (in a worker, or in this process's broker pool)."""
        try:
            run_tool(argv, timeout=self.settings.install_timeout_s, max_output=1024**2)
        except ToolError as exc:
            return self._record(asset_id, "failed", str(exc))
        return self._record(asset_id, "ok", None)

    def _argv(self, asset_id: str, viewer: Viewer) -> list[str]:
        with self.database.session() as session:
            asset = AssetRepository(session).visible(asset_id, viewer)
            if asset is None or asset.asset_type != AssetType.APP_PACKAGE:
                raise NotFound(f"no app package with id {asset_id!r}")
            root = RootRepository(session).get(asset.root_id or "")
            if root is None or asset.rel_path is None:
                raise NotFound("this package's library is gone")
            try:
                path = resolve(root.path, asset.rel_path, escaped=asset.path_escaped)
            except OriginalUnavailable as exc:
                raise NotFound(str(exc)) from exc
        return install_argv(self.settings.install_command, path)

    def _record(self, asset_id: str, status: str, message: str | None) -> dict[str, Any]:
        outcome = {"status": status, "message": message, "at": utcnow().isoformat()}
        with self.database.session() as session:
            AssetRepository(session).set_namespace(asset_id, NAMESPACE, outcome)
        return outcome

    async def _started_broker(self) -> Any:
        if self._broker is None:
            from trove.pipeline.tasks import make_broker

            broker = make_broker(self.settings)
            broker.state.installer = self
            await broker.startup()
            self._broker = broker
        return self._broker
