"""POST /api/dam/upload: multipart upload into the upload root, registered like any file."""

from __future__ import annotations

from fastapi import APIRouter, UploadFile
from starlette.concurrency import run_in_threadpool

from trove.api.deps import ServicesDep
from trove.api.schemas import AssetDetail, errors

router = APIRouter(prefix="/api/dam", tags=["upload"])


@router.post("/upload", status_code=201, response_model=AssetDetail, responses=errors(400, 413))
async def upload(file: UploadFile, services: ServicesDep) -> dict:
    return await run_in_threadpool(services.upload, file.filename or "", file.file)
