"""The OpenAPI document is the contract: schemathesis fuzzes every operation the app declares.

Every operation in `/openapi.json` is called through the real ASGI app (in-process, no
network) over a small real library, on SQLite and on PostgreSQL, with requests generated from
the schema itself: valid ones, invalid ones (which must be refused with a 4xx: on SQLite
only, as they never reach the database), and valid ones whose `asset_id` / `node_id` /
`root_id` / `album_id` exist (the generator alone would only ever reach the 404 branch). Each
response must not be a server error, must carry a status code the operation declares, and must
match the declared schema and content type (errors included: `{"detail": ...}`). The test
walks whatever operations the app has, so a new route is covered the moment it exists.

Run it for one route (a regular expression over the path; `-k` picks the database):

    TROVE_CONTRACT_PATH='^/api/dam/assets/\\{asset_id\\}$' \\
        .venv/bin/python -m pytest -q -s tests/test_api_contract.py -k sqlite

`TROVE_CONTRACT_EXAMPLES` sets the examples per operation and kind (default 10); `-s` prints
how many requests each operation got.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import traceback
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, reject
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.media import make_library, write_jpeg
from trove.domain.access import Viewer

SYSTEM = Viewer.system()
# The TestClient's own HTTP library may be httpx's fork (httpx2), whose errors are its own.
INVALID_URL: tuple[type[Exception], ...] = (httpx.InvalidURL,) + (
    (importlib.import_module("httpx2").InvalidURL,) if importlib.util.find_spec("httpx2") else ()
)

EXAMPLES = int(os.environ.get("TROVE_CONTRACT_EXAMPLES", "10"))
ONLY = re.compile(os.environ.get("TROVE_CONTRACT_PATH", ""))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,  # an invalid request is refused with a 4xx
]
# Operations left out, each with its reason. Everything else the app declares is fuzzed.
# (POST /api/dam/roots is fuzzed: without TROVE_ALLOWED_ROOTS, as here, the API adds no
# library, so a generated "/" is refused rather than scanned.)
EXCLUDED: dict[tuple[str, str], str] = {}
RUN = hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same requests on every run: a failure here is reproducible
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    database=None,
)


@pytest.fixture
def library(tmp_path: Path) -> Path:
    root = make_library(tmp_path / "library")
    write_jpeg(root / "copies" / "IMG_0000.jpg", seed=0)  # a duplicate of 2023-01's first photo
    return root


@pytest.mark.slow
@pytest.mark.timeout(900)  # every route, fuzzed: the suite's longest test (~2-3 min when quiet)
def test_every_operation_answers_within_its_declared_contract(client, database_url):  # type: ignore[no-untyped-def]
    # Invalid requests are refused by the request's validation, before a handler or the
    # database is reached: they are sent once, on SQLite. Valid ones (and existing ids) reach
    # the database and are sent on both.
    kinds = {"valid", "invalid", "existing ids"}
    if not database_url.startswith("sqlite"):
        kinds.discard("invalid")
    schema = schemathesis.openapi.from_dict(client.get("/openapi.json").json())
    existing = _existing_ids(client)
    requests: Counter[str] = Counter()
    failures: dict[str, str] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        key = (operation.method.upper(), operation.path)
        if key in EXCLUDED or not ONLY.search(operation.path):
            continue
        for kind, strategy in _strategies(operation, existing):
            if kind not in kinds:
                continue
            try:
                if isinstance(strategy, list):
                    _refused(strategy, client, requests)
                else:
                    _fuzz(strategy, client, requests)
            except Unsatisfiable:
                assert kind == "invalid", f"{operation.label}: no {kind} request can be made"
            except (Exception, BaseExceptionGroup) as exc:  # schemathesis raises a group
                failures[f"{operation.label} ({kind})"] = _summary(exc)
    print("\nrequests per operation:", dict(sorted(requests.items())))
    print("operations:", len(requests), "requests:", sum(requests.values()))
    for name, failure in failures.items():
        print(f"\n=== {name}\n{failure}")
    assert requests, "no operation was fuzzed"
    assert not failures, "\n\n".join(f"{k}\n{v}" for k, v in failures.items())


def _strategies(operation, existing):  # type: ignore[no-untyped-def]
    yield "valid", operation.as_strategy(GenerationMode.POSITIVE)
    yield "invalid", _invalid_ids(operation) or operation.as_strategy(GenerationMode.NEGATIVE)
    names = [p.name for p in operation.path_parameters if p.name in existing]
    if names:
        ids = st.fixed_dictionaries({name: st.sampled_from(existing[name]) for name in names})
        yield (
            "existing ids",
            ids.flatmap(lambda known: operation.as_strategy(path_parameters=known)),
        )


def _invalid_ids(operation) -> list[Any]:  # type: ignore[no-untyped-def]
    """For an operation that takes nothing but ids in its path, the invalid requests there
    are: each id one character too long, or holding a NUL. Schemathesis's own negative
    generation finds one of them in about two seconds of rejected draws (most of what it
    draws cannot be put in a URL), so they are written out. Each must be refused with a 422."""
    if operation.query or operation.headers or operation.cookies or list(operation.body):
        return []
    valid = {p.name: "x" for p in operation.path_parameters}
    cases = []
    for parameter in operation.path_parameters:
        schema = parameter.definition["schema"]
        if schema.get("type") != "string" or "maxLength" not in schema:
            return []
        for bad in ("x" * (schema["maxLength"] + 1), quote("a\x00b", safe="")):
            cases.append(operation.Case(path_parameters={**valid, parameter.name: bad}))
    return cases


def _fuzz(strategy, client, requests: Counter[str]) -> None:  # type: ignore[no-untyped-def]
    @RUN
    @given(case=strategy)
    def run(case: Any) -> None:
        try:
            response = _send(case, client, requests)
        except INVALID_URL:  # longer than any HTTP client would send: not a request
            reject()
        case.validate_response(response, checks=CHECKS)

    run()


def _refused(cases: list[Any], client, requests: Counter[str]) -> None:  # type: ignore[no-untyped-def]
    for case in cases:
        response = _send(case, client, requests)
        case.validate_response(response, checks=CHECKS)
        assert response.status_code == 422, f"{case.operation.label}: {case.path_parameters}"


def _send(case: Any, client, requests: Counter[str]) -> httpx.Response:  # type: ignore[no-untyped-def]
    """The case through the app's own TestClient: the app runs on the event loop its
    lifespan started."""
    requests[case.operation.label] += 1
    request = case.as_transport_kwargs(base_url=str(client.base_url))
    if not request.get("cookies"):
        request.pop("cookies", None)  # per-request cookies are deprecated in httpx
    if request.get("files"):
        request["files"] = [_as_httpx_part(part) for part in request["files"]]
    if isinstance(request.get("data"), bytes | str):  # a raw body: httpx names it content
        request["content"] = request.pop("data")
    response = client.request(**request)
    response.request.read()  # a multipart body is a stream; the failure report shows it
    return response


def _as_httpx_part(part: tuple[str, tuple[Any, Any]]) -> tuple[str, tuple[Any, Any]]:
    """A multipart part as requests takes it (a number is allowed) in the form httpx takes."""
    name, (filename, content) = part
    return name, (filename, content if isinstance(content, bytes | str) else str(content))


def _summary(exc: BaseException) -> str:
    """The failure as schemathesis words it (with its curl command), without the traceback."""
    return "".join(traceback.format_exception_only(exc)).strip()


def _existing_ids(client) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """Ids that exist, by path parameter name: every asset, the library, an album of two."""
    items = client.get("/api/dam/assets", params={"limit": 1000}).json()["items"]
    roots = client.get("/api/dam/roots").json()["items"]
    album = client.post("/api/dam/albums", json={"name": "Trip"}).json()
    files = [i["id"] for i in items if i["asset_type"] != "collection"]
    client.post(f"/api/dam/albums/{album['id']}/assets", json={"asset_ids": files[:2]})
    return {
        "asset_id": [i["id"] for i in items],
        "node_id": [i["id"] for i in items],  # the graph's nodes: assets (and entities)
        "root_id": [r["id"] for r in roots],
        "album_id": [album["id"]],
    }


SEED_FIELDS = {
    "id", "filename", "size", "mime_type", "asset_type", "category", "status", "error_message",
    "storage_urn", "hash", "phash", "width", "height", "duration", "tags", "title",
    "description", "metadata", "thumbnails", "visibility", "version",
}  # fmt: skip


def test_the_asset_models_declare_every_field_the_service_returns(client):  # type: ignore[no-untyped-def]
    """A field added to the serializer but not to the model would be dropped silently (and a
    model field the serializer lacks would be a 500): they must stay the same set."""
    from typing import get_args

    from trove.api.schemas import AssetDetail, AssetOut, ThumbnailSize
    from trove.domain.filters import AssetFilters
    from trove.storage.cache import THUMBNAIL_SIZES

    services = client.app.state.services
    summary = services.assets.list(AssetFilters(type=["image"], limit=1), viewer=SYSTEM).items[0]
    detail = services.assets.get(summary["id"], viewer=SYSTEM)
    assert set(summary) == set(AssetOut.model_fields)
    assert set(detail) == set(AssetDetail.model_fields)
    assert set(get_args(ThumbnailSize)) == set(THUMBNAIL_SIZES)
    assert set(client.get(f"/api/dam/assets/{summary['id']}").json()) >= SEED_FIELDS
    document = client.get("/openapi.json").json()
    answer = document["paths"]["/api/dam/assets/{asset_id}"]["get"]["responses"]["200"]
    assert answer["content"]["application/json"]["schema"]["$ref"].endswith("/AssetDetail")


def test_every_operation_declares_its_errors_as_detail_and_nothing_else(client):  # type: ignore[no-untyped-def]
    document = client.get("/openapi.json").json()
    operations = [op for item in document["paths"].values() for op in item.values()]
    schemas = document["components"]["schemas"]
    assert operations and all(path.startswith("/api/") for path in document["paths"])
    for operation in operations:
        errors = {c: r for c, r in operation["responses"].items() if c[0] in "45"}
        assert "422" in errors, operation["operationId"]
        for response in errors.values():
            name = response["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
            # ErrorOut, or a report that is one too (the health check's 503 says why in detail)
            assert "detail" in schemas[name]["required"], operation["operationId"]
    assert "HTTPValidationError" not in str(document)  # FastAPI's default, never sent here
