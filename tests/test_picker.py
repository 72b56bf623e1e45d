"""The asset picker's contract (docs/picker.md) below the browser: what a pick hands back,
the message posted with it, where it may be posted and who may frame the page. The browser
side (a real opener page on another origin) is tests/test_ui_picker.py."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from tests.media import write_jpeg, write_text
from trove.api.web_safety import PICKER_PATH, HostPolicy, WebSafetyMiddleware
from trove.config import Settings, SettingsError, load_settings
from trove.domain.access import Viewer
from trove.ui.picker_message import picked_message, target_origins

TROVE = "https://trove.example.org"
CMS = "https://cms.example.org"


@pytest.fixture
def library(tmp_path):
    for i in range(3):
        write_jpeg(tmp_path / "library" / f"photo_{i}.jpg", seed=i)
    write_text(tmp_path / "library" / "notes.txt", "not a photo")
    return tmp_path / "library"


def test_a_pick_hands_back_the_api_asset_with_public_links_only_where_a_share_allows(client):
    from trove.api.schemas import PickedAsset

    photos = {
        item["filename"]: item["id"]
        for item in client.get("/api/dam/assets", params={"type": "image"}).json()["items"]
    }
    shared, plain, guarded = photos["photo_0.jpg"], photos["photo_1.jpg"], photos["photo_2.jpg"]
    token = client.post("/api/dam/shares", json={"asset_id": shared, "allow_download": True})
    token = token.json()["token"]
    client.post("/api/dam/shares", json={"asset_id": guarded, "password": "secret"})
    album = client.post("/api/dam/albums", json={"name": "Picks"}).json()["id"]
    client.post(f"/api/dam/albums/{album}/assets", json={"asset_ids": [plain]})

    services = client.app.state.services
    found = services.picker.picked(
        [plain, shared, plain, guarded, "no-such-id"], viewer=Viewer.local_owner()
    )
    assets = [PickedAsset.model_validate(a) for a in found]
    assert [a.id for a in assets] == [plain, shared, guarded]  # in order, once, unseen left out
    message = picked_message(assets, origin=TROVE + "/")
    assert message["type"] == "trove:picked" and message["origin"] == TROVE
    by_id = {a["id"]: a for a in message["assets"]}
    detail = client.get(f"/api/dam/assets/{plain}").json()
    assert {k: by_id[plain][k] for k in ("filename", "hash", "width", "metadata")} == {
        k: detail[k] for k in ("filename", "hash", "width", "metadata")
    }
    assert by_id[plain]["url"] == f"{TROVE}/?asset={plain}"
    assert by_id[plain]["thumbnails"]["small"].startswith(f"{TROVE}/api/dam/assets/{plain}/")
    base = f"{TROVE}/api/dam/shared/{token}/assets/{shared}"
    assert by_id[shared]["public_url"] == f"{TROVE}/s/{token}"
    assert by_id[shared]["public_file_url"] == f"{base}/file"
    assert by_id[shared]["public_thumbnails"]["large"].startswith(f"{base}/thumbnail/large")
    for private in (plain, guarded):  # no share, or one behind a password: no public link
        assert by_id[private]["public_url"] is None and by_id[private]["public_thumbnails"] == {}

    # The picker's album and type filters are the listing's.
    listed = client.get("/api/dam/assets", params={"album": album, "type": "image"}).json()
    assert [item["id"] for item in listed["items"]] == [plain]
    assert client.get("/api/dam/assets", params={"album": "nope"}).status_code == 422


def test_messages_go_to_this_site_and_the_allowed_origins_never_to_any():
    assert target_origins(TROVE + "/", (CMS, TROVE)) == [TROVE, CMS]
    settings = load_settings(environ={"TROVE_PICKER_ORIGINS": f"{CMS}/, http://127.0.0.1:9000"})
    assert settings.picker_origin_list == (CMS, "http://127.0.0.1:9000")
    for refused in ("*", "https://*.example.org", f"{CMS}/picker", "cms.example.org"):
        with pytest.raises(SettingsError, match="TROVE_PICKER_ORIGINS"):
            load_settings(environ={"TROVE_PICKER_ORIGINS": refused})


@pytest.mark.parametrize("origins", ["", CMS])
def test_only_the_picker_may_be_framed_and_only_by_this_site_and_the_allowed_origins(origins):
    async def page(request):  # type: ignore[no-untyped-def]
        return HTMLResponse("<p>page</p>")

    app = Starlette(routes=[Route(PICKER_PATH, page), Route("/", page)])
    app.add_middleware(WebSafetyMiddleware)
    app.state.host_policy = HostPolicy.from_settings(Settings(picker_origins=origins))
    client = TestClient(app, base_url="http://localhost")
    picker, gallery = client.get(PICKER_PATH), client.get("/")
    expected = f"frame-ancestors 'self' {origins}".strip()
    assert expected + ";" in picker.headers["content-security-policy"] + ";"
    # X-Frame-Options knows no list: sent only when this site alone may frame the picker.
    assert picker.headers.get("x-frame-options") == (None if origins else "SAMEORIGIN")
    assert "frame-ancestors 'none'" in gallery.headers["content-security-policy"]
    assert gallery.headers["x-frame-options"] == "DENY"
