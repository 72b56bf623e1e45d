"""What an upload may do, through the app in-process: the quota is checked before a byte is
stored (resumable and multipart alike), an upload in flight counts against it until it is
terminated, and an upload joins its folder in the upload library."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests import tus_client
from trove.config import Settings

QUOTA = 1000


@pytest.fixture
def app_client(settings: Settings) -> Iterator[TestClient]:
    from trove.app import create_app

    app = create_app(dataclasses.replace(settings, upload_quota=QUOTA, watch=False))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def _create(client: TestClient, name: str, size: int) -> object:
    return client.post(
        tus_client.TUS,
        headers={
            **tus_client.HEADERS,
            "Upload-Length": str(size),
            "Upload-Metadata": tus_client.metadata(filename=name, filetype="text/plain"),
        },
    )


def _multipart(client: TestClient, name: str, data: bytes) -> object:
    return client.post("/api/dam/upload", files={"file": (name, data)})


def test_an_upload_over_the_quota_is_refused_with_the_reason_before_anything_is_stored(
    app_client, settings
):
    resumable = _create(app_client, "big.txt", QUOTA + 1)
    assert resumable.status_code == 413
    assert "quota" in resumable.json()["detail"]
    whole = _multipart(app_client, "big.txt", b"x" * (QUOTA + 1))
    assert whole.status_code == 413
    assert "quota" in whole.json()["detail"]
    assert not list((settings.data_dir / "uploads").rglob("big.txt"))
    listed = app_client.get("/api/dam/assets").json()["items"]
    assert [a["asset_type"] for a in listed] == ["collection"] * len(listed)  # folders only


def test_an_upload_in_flight_counts_against_the_quota_until_it_is_terminated(app_client):
    created = _create(app_client, "pending.txt", 600)
    assert created.status_code == 201
    upload_url = created.headers["Location"]
    upload_id = upload_url.rsplit("/", 1)[1]
    assert app_client.get(f"/api/dam/assets/{upload_id}").json()["status"] == "uploading"
    assert _multipart(app_client, "more.txt", b"y" * 600).status_code == 413
    terminated = app_client.delete(upload_url, headers=tus_client.HEADERS)
    assert terminated.status_code == 204
    assert app_client.get(f"/api/dam/assets/{upload_id}").status_code == 404
    assert app_client.head(upload_url, headers=tus_client.HEADERS).status_code == 404
    assert _multipart(app_client, "more.txt", b"y" * 600).status_code == 201


def test_an_upload_is_listed_in_the_uploaders_folder_and_a_same_name_keeps_both(
    app_client, settings
):
    first = _multipart(app_client, "note.txt", b"first").json()
    created = _create(app_client, "note.txt", 6)
    upload = tus_client.Upload(str(created.headers["Location"]))
    done = app_client.patch(
        upload.url,
        headers={
            **tus_client.HEADERS,
            "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream",
        },
        content=b"second",
    )
    assert done.status_code == 204, done.text
    folder = Path(settings.data_dir / "uploads" / "owner")
    assert (folder / "note.txt").read_bytes() == b"first"
    assert (folder / "note (1).txt").read_bytes() == b"second"
    second = app_client.get(f"/api/dam/assets/{upload.id}").json()
    assert second["filename"] == "note (1).txt" and second["status"] != "uploading"
    for asset_id in (first["id"], upload.id):
        up = app_client.get(
            f"/api/dam/assets/{asset_id}/neighbours",
            params={"relation": "contains", "direction": "in"},
        ).json()["items"]
        assert [n["node"]["name"] for n in up] == ["owner"]


@pytest.fixture
def signed_in_client(settings: Settings) -> Iterator[TestClient]:
    from tests.accounts import add_accounts, with_sign_in
    from trove.app import create_app

    app = create_app(dataclasses.replace(with_sign_in(settings), upload_quota=QUOTA, watch=False))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        add_accounts(app.state.services)
        yield test_client


def test_a_members_upload_is_theirs_in_their_folder_and_no_one_else_may_touch_it_in_flight(
    signed_in_client, settings
):
    from tests.accounts import ADMIN, MEMBER, sign_in

    client = signed_in_client
    assert _create(client, "anon.txt", 3).status_code == 401
    bob, alice = sign_in(client, *MEMBER), sign_in(client, *ADMIN)
    created = client.post(
        tus_client.TUS,
        headers={
            **bob,
            **tus_client.HEADERS,
            "Upload-Length": "5",
            "Upload-Metadata": tus_client.metadata(filename="bob.txt", filetype="text/plain"),
        },
    )
    assert created.status_code == 201, created.text
    url = created.headers["Location"]
    patch = {**tus_client.HEADERS, "Upload-Offset": "0"}
    patch["Content-Type"] = "application/offset+octet-stream"
    assert client.head(url, headers={**alice, **tus_client.HEADERS}).status_code == 200  # admin
    own = client.post("/api/dam/upload", files={"file": ("alice.txt", b"a")}, headers=alice)
    assert own.status_code == 201, own.text
    done = client.patch(url, headers={**bob, **patch}, content=b"hello")
    assert done.status_code == 204, done.text
    asset = client.get(f"/api/dam/assets/{done.headers['Trove-Asset-Id']}", headers=bob).json()
    assert asset["path"] == "bob/bob.txt"
    assert (settings.data_dir / "uploads" / "bob" / "bob.txt").read_bytes() == b"hello"
    assert (settings.data_dir / "uploads" / "alice" / "alice.txt").read_bytes() == b"a"
    again = client.post(
        tus_client.TUS,
        headers={
            **bob,
            **tus_client.HEADERS,
            "Upload-Length": "5",
            "Upload-Metadata": tus_client.metadata(filename="two.txt", filetype="text/plain"),
        },
    )
    second = again.headers["Location"]
    client.app.state.services.users.add_user("carol", "carol-secret-333")
    carol = sign_in(client, "carol", "carol-secret-333")  # a member, not the uploader
    assert client.head(second, headers={**carol, **tus_client.HEADERS}).status_code == 404
    assert client.patch(second, headers={**carol, **patch}, content=b"evil!").status_code == 404
    assert client.delete(second, headers={**carol, **tus_client.HEADERS}).status_code == 404
    assert (
        client.head(second, headers={**bob, **tus_client.HEADERS}).headers["Upload-Offset"] == "0"
    )
    finished = client.patch(second, headers={**alice, **patch}, content=b"world")  # the admin
    assert finished.status_code == 204, finished.text
    assert (settings.data_dir / "uploads" / "bob" / "two.txt").read_bytes() == b"world"
    assert not (settings.data_dir / "uploads" / "alice" / "two.txt").exists()


def test_a_negative_upload_length_is_refused_and_frees_no_quota(app_client):
    refused = _create(app_client, "minus.txt", -(10**12))
    assert refused.status_code == 422, refused.text
    assert "Upload-Length" in refused.json()["detail"]
    assert _multipart(app_client, "more.txt", b"y" * (QUOTA + 1)).status_code == 413
