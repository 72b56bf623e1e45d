"""POST /api/dam/upload: multipart upload into the upload root, registered like any file."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Form, UploadFile
from starlette.concurrency import run_in_threadpool

from trove.api.deps import ServicesDep, WriterDep
from trove.api.schemas import AssetDetail, errors

router = APIRouter(prefix="/api/dam", tags=["upload"])


@router.post("/upload", status_code=201, response_model=AssetDetail, responses=errors(400, 413))
async def upload(
    file: UploadFile,
    services: ServicesDep,
    viewer: WriterDep,
    modified: int | None = Form(
        default=None,
        ge=0,
        description="The file's modification time in milliseconds since 1970 (a browser's"
        " File.lastModified): kept as the stored file's, so a file without a capture date"
        " is dated by it rather than by the upload.",
    ),
) -> dict:
    return await run_in_threadpool(
        partial(services.upload, file.filename or "", file.file, modified_ms=modified)
    )
