"""POST /api/dam/upload: a whole file in one multipart request (for scripts; the UI uses the
resumable TUS endpoint), stored and registered the same way (services/uploads.py)."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Form, UploadFile
from starlette.concurrency import run_in_threadpool

from trove.api.deps import ServicesDep, WriterDep
from trove.api.schemas import AssetDetail, errors

router = APIRouter(prefix="/api/dam", tags=["upload"])


@router.post(
    "/upload", status_code=201, response_model=AssetDetail, responses=errors(400, 403, 413, 503)
)
async def upload(
    file: UploadFile,
    viewer: WriterDep,
    services: ServicesDep,
    root_id: str | None = Form(
        default=None,
        max_length=64,
        description="An upload library you may write to; without it, your own upload folder.",
    ),
    modified: int | None = Form(
        default=None,
        ge=0,
        description="The file's modification time in milliseconds since 1970 (a browser's"
        " File.lastModified): kept as the stored file's, so a file without a capture date"
        " is dated by it rather than by the upload.",
    ),
) -> dict:
    return await run_in_threadpool(
        partial(
            services.upload,
            viewer,
            file.filename or "",
            file.file,
            root_id=root_id or None,
            modified_ms=modified,
        )
    )
