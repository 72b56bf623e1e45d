"""The People page in Chromium against a real server with face finding on: the astronaut's two
portraits form one unnamed group, naming it makes a person listed with both photos, and the
same through /api/dam/people."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PIL import Image

from tests.browser.fixtures import ARTIFACTS, require_chromium
from tests.browser.server import TroveServer, start_server

pytestmark = pytest.mark.slow
playwright_api = pytest.importorskip("playwright.sync_api")
pytest.importorskip("dlib")
data = pytest.importorskip("skimage.data")

require_chromium()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TroveServer]:
    library = tmp_path_factory.mktemp("people") / "library"
    library.mkdir()
    portrait = Image.fromarray(data.astronaut())
    portrait.save(library / "astronaut.jpg", quality=92)
    portrait.transpose(Image.Transpose.FLIP_LEFT_RIGHT).resize((400, 400)).save(
        library / "mirror.jpg", quality=92
    )
    trove = start_server(
        data_dir=library.parent / "data", roots=[library], env={"TROVE_AI_FACES": "1"}
    )
    try:
        trove.wait_idle(timeout=180)
        yield trove
    finally:
        trove.stop()


def test_naming_a_group_of_faces_on_the_people_page_lists_the_person_with_both_photos(server, page):
    before = server.api("/api/dam/people")
    assert before["people"] == []
    assert max(len(g["faces"]) for g in before["unnamed"]) == 2
    expect = playwright_api.expect
    page.goto(server.url + "/people")
    group = page.locator(".trove-face-group").first
    expect(group.locator(".trove-face")).to_have_count(2)
    group.locator(".trove-face-name input").fill("Eileen Collins")
    group.get_by_role("button", name="Name").click()
    person = page.locator(".trove-person", has_text="Eileen Collins")
    expect(person).to_contain_text("2 photo(s)")
    expect(page.locator(".trove-nav-active")).to_contain_text("People")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "people-1280x800.png"))
    assert page.watch.errors == []
    after = server.api("/api/dam/people")
    assert [(p["name"], len(p["photos"])) for p in after["people"]] == [("Eileen Collins", 2)]
