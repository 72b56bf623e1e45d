"""/api/dam/uploads/tus/: resumable uploads (TUS 1.0: creation, HEAD/PATCH to resume,
termination, expiration), served by tuspyserver's router with Trove's checks around it.

tuspyserver keeps the bytes and the offset (`<data dir>/incoming/tus/<upload id>` and `.info`);
Trove decides who may upload what where (creation), who may touch an upload (only its uploader
or an admin: anyone else gets 404 before a byte is written) and what happens at the last byte
(services/uploads.py places and registers the file). The upload id is the asset's id: the
asset is listed as `uploading` from creation on.

The routes are left out of the OpenAPI document: TUS is a protocol of headers (Upload-Offset,
Upload-Length, Upload-Metadata) on bodiless responses, specified at tus.io, and tuspyserver's
routes declare neither their headers nor response models, so the document would promise what
the routes do not say. Their policy is explicit all the same: every one takes `writer`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool
from tuspyserver import create_tus_router

from trove.api.deps import ServicesDep, WriterDep, writer
from trove.services.errors import Invalid

PREFIX = "/api/dam/uploads/tus"
# Trove's own expiry (TROVE_UPLOAD_EXPIRY_DAYS, services/uploads.py `expire`) drops uploads;
# tuspyserver's is only the Upload-Expires it announces, set past any allowed setting.
_ANNOUNCED_DAYS = 365
# A body on the creation request (creation-with-upload) is read into memory by tuspyserver:
# allowed only small, the rest of a file comes by PATCH, which is streamed to disk.
_MAX_CREATION_BODY = 1024 * 1024


async def _files(
    request: Request, viewer: WriterDep, services: ServicesDep
) -> Callable[[dict[str, str]], dict[str, str]]:
    """Where the upload's bytes are, after checking the caller may touch this upload."""
    upload_id = request.path_params.get("uuid")
    if upload_id is not None:
        await run_in_threadpool(services.uploads.check_access, viewer, upload_id)
        if request.method == "DELETE":  # termination: the record goes, tuspyserver the bytes
            await run_in_threadpool(services.uploads.forget, upload_id)
    tus_dir = str(services.uploads.tus_dir)

    def where(_metadata: dict[str, str]) -> dict[str, str]:
        created = getattr(request.state, "upload_id", None)
        return {"files_dir": tus_dir, **({"uid": created} if created else {})}

    return where


async def _creating(
    request: Request, viewer: WriterDep, services: ServicesDep
) -> Callable[[dict[str, str], dict[str, Any]], Awaitable[None]]:
    """Before an upload is created: its name, destination and size checked against the
    user's rights and quota, and its `uploading` asset made (whose id the upload takes)."""

    async def pre_create(metadata: dict[str, str], info: dict[str, Any]) -> None:
        if request.headers.get("upload-concat") is not None:
            raise Invalid("Upload-Concat: concatenated uploads are not supported here")
        if int(request.headers.get("content-length") or 0) > _MAX_CREATION_BODY:
            raise Invalid("send the file's bytes with PATCH, not with the creation request")
        filename = metadata.get("filename") or metadata.get("name") or ""
        if not (metadata.get("filetype") or metadata.get("type")):
            raise Invalid("Upload-Metadata must name the file's type (filetype)")
        request.state.upload_id = await run_in_threadpool(
            partial(
                services.uploads.begin,
                viewer,
                filename=filename,
                size=info.get("size"),
                root_id=metadata.get("root_id") or None,
                modified_ms=_int_or_none(metadata.get("modified")),
            )
        )

    return pre_create


async def _completing(
    _writer: WriterDep, services: ServicesDep, response: Response
) -> Callable[[str, dict[str, str]], Awaitable[None]]:
    """At the last byte: the file placed (where its uploader may put it, whoever sends the
    last byte) and registered before the final PATCH is answered, so a 204 means stored; a
    failure is the PATCH's error, with the reason."""

    async def on_complete(file_path: str, metadata: dict[str, str]) -> None:
        asset_id = await run_in_threadpool(
            services.upload_completed, Path(file_path).name, metadata
        )
        response.headers["Trove-Asset-Id"] = asset_id

    return on_complete


def _int_or_none(text: str | None) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        return None


def build_router() -> APIRouter:
    # tuspyserver annotates its hooks as plain sync callables returning None; it awaits
    # what they return when awaitable and reads the dict `file_dep` gives (its docs).
    hooks: dict[str, Any] = {
        "auth": writer,
        "upload_complete_dep": _completing,
        "pre_create_dep": _creating,
        "file_dep": _files,
    }
    return create_tus_router(
        prefix=PREFIX,
        files_dir="/nonexistent",  # always replaced per request by `_files`
        max_size=2**62,  # the per-file limit is checked at creation (TROVE_MAX_UPLOAD_BYTES)
        days_to_keep=_ANNOUNCED_DAYS,
        tags=["upload"],
        **hooks,
    )


router = build_router()
