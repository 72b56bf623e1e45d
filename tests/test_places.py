"""Places without the internet: city, region and country from a photo's GPS position, looked up
in the GeoNames data a package ships; both databases."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.pipeline_media import camera_exif, write_photo
from trove.domain.access import Viewer
from trove.domain.filters import AssetFilters
from trove.domain.places import Viewport
from trove.pipeline.processor import AssetView
from trove.pipeline.processors.places import PlacesProcessor
from trove.places.geocoder import GeoNamesIndex, shared_index
from trove.services.container import Services

SYSTEM = Viewer.system()


@pytest.mark.parametrize(
    ("lat", "lon", "city", "region", "country"),
    [
        (35.0116, 135.7681, "Kyoto", "Kyoto", "Japan"),
        (40.7128, -74.0060, "New York City", "New York", "United States"),
        (64.1466, -21.9426, "Reykjavik", "Capital Region", "Iceland"),
        (-22.9068, -43.1729, "Rio de Janeiro", "Rio de Janeiro", "Brazil"),
        (52.3676, 4.9041, "Amsterdam", "North Holland", "Netherlands"),
        (-33.9249, 18.4241, "Cape Town", "Western Cape", "South Africa"),
        (42.6629, 21.1655, "Pristina", "Pristina", "Kosovo"),
        # Names with commas, quoted in the dataset's CSV.
        (47.25368, 8.85654, "Rueti / Dorfzentrum, Suedl. Teil", "Zurich", "Switzerland"),
        (
            12.58472,
            -81.70056,
            "San Andres",
            "Archipielago de San Andres, Providencia y Santa Catalina",
            "Colombia",
        ),
        # The dataset's first and last rows.
        (42.57952, 1.65362, "El Tarter", "Canillo", "Andorra"),
        (-18.01274, 31.07555, "Chitungwiza", "Harare", "Zimbabwe"),
    ],
)
def test_a_known_position_is_named_by_its_city_region_and_country(lat, lon, city, region, country):
    place = shared_index().nearest(lat, lon)
    assert place is not None
    assert (place.city, place.region, place.country) == (city, region, country)
    assert place.distance_km < 10


def test_a_dataset_not_in_the_shipped_form_is_refused_rather_than_misread(tmp_path):
    header = "lat,lon,name,admin1,admin2,cc\n"
    for name, text in {
        "columns.csv": "lat,lon,city\n1,2,A\n",
        "blank-line.csv": header + "1,2,A,B,,FR\n\n3,4,C,D,,FR\n",
        "newline-in-quotes.csv": header + '1,2,"A\nB",C,,FR\n',
    }.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(ValueError):
            GeoNamesIndex(tmp_path / name).nearest(1, 2)
    (tmp_path / "no-final-newline.csv").write_text(header + '1,2,"A, B",C,,FR\n3,4,E,F,G,DE')
    index = GeoNamesIndex(tmp_path / "no-final-newline.csv")
    last, quoted = index.nearest(3, 4), index.nearest(1, 2)
    assert last is not None and (last.city, last.district) == ("E", "G")
    assert quoted is not None and quoted.city == "A, B"


def test_the_open_sea_and_a_gps_without_a_fix_are_given_no_place():
    assert shared_index().nearest(0.0, -140.0) is None
    processor = PlacesProcessor()
    no_fix = AssetView(
        id="a", path=__file__, size=1, mtime_ns=1, mime_type="image/jpeg", asset_type="image",
        hash=None, meta={"geo": {"lat": 0.0, "lon": 0.0}},
    )  # fmt: skip
    assert not processor.applies_to(no_fix)


@pytest.fixture
def services(settings) -> Iterator[Services]:
    services = Services.create(settings)
    yield services
    services.database.dispose()


def test_a_photo_with_gps_gets_a_place_namespace_and_one_without_does_not(services, tmp_path):
    library = tmp_path / "library"
    kyoto = camera_exif(lat=(35.0, 0.0, 41.8, "N"), lon=(135.0, 46.0, 5.2, "E"))
    write_photo(library / "temple.jpg", exif=kyoto)
    write_photo(library / "no gps.jpg")
    services.library.scan_and_process([str(library)], wait=True)
    places = {
        a["filename"]: services.assets.get(a["id"], viewer=SYSTEM)["metadata"].get("place")
        for a in services.assets.list(AssetFilters(type=["image"]), viewer=SYSTEM).items
    }
    assert places["no gps.jpg"] is None
    place = places["temple.jpg"]
    assert (place["city"], place["region"], place["country"], place["country_code"]) == (
        "Kyoto",
        "Kyoto",
        "Japan",
        "JP",
    )
    assert place["name"] == "Kyoto, Japan"
    owner, stranger = Viewer.local_owner(), Viewer(user_id="someone else")
    assert services.places.markers(owner, Viewport(zoom=2))["total"] == 1
    assert services.places.markers(stranger, Viewport(zoom=2))["items"] == []  # not theirs
    found = services.assets.list(AssetFilters(q="place:kyoto"), viewer=SYSTEM).items
    assert [a["filename"] for a in found] == ["temple.jpg"]
    assert [
        a["filename"] for a in services.assets.list(AssetFilters(q="japan"), viewer=SYSTEM).items
    ] == ["temple.jpg"]


def _dms(value: float, positive: str, negative: str) -> tuple[float, float, float, str]:
    whole = abs(value)
    degrees, minutes = int(whole), int(whole * 60) % 60
    return (
        float(degrees),
        float(minutes),
        round(whole * 3600 % 60, 2),
        positive if value >= 0 else negative,
    )


@pytest.fixture
def library(tmp_path):
    library = tmp_path / "library"
    spots = {
        "kyoto 1.jpg": (35.0116, 135.7681),
        "kyoto 2.jpg": (35.0160, 135.7681),
        "kyoto 3.jpg": (35.0116, 135.7730),
        "reykjavik.jpg": (64.1466, -21.9426),
    }
    for seed, (name, (lat, lon)) in enumerate(spots.items()):
        exif = camera_exif(lat=_dms(lat, "N", "S"), lon=_dms(lon, "E", "W"))
        write_photo(library / name, exif=exif, size=(64, 48), seed=seed)
    write_photo(library / "nowhere.jpg", size=(64, 48))
    return library


def test_the_map_gets_one_marker_per_cell_of_its_zoom_and_only_inside_its_viewport(client):
    world = client.get("/api/dam/places/markers", params={"zoom": 2}).json()
    assert world["total"] == 4
    assert sorted((m["count"], round(m["lat"]), round(m["lon"])) for m in world["items"]) == [
        (1, 64, -22),
        (3, 35, 136),
    ]
    street = {"south": 34.9, "west": 135.6, "north": 35.1, "east": 135.9, "zoom": 16}
    close = client.get("/api/dam/places/markers", params=street).json()
    assert [m["count"] for m in close["items"]] == [1, 1, 1]
    names = {
        client.get(f"/api/dam/assets/{m['asset_id']}").json()["filename"] for m in close["items"]
    }
    assert names == {"kyoto 1.jpg", "kyoto 2.jpg", "kyoto 3.jpg"}
    wrong = client.get("/api/dam/places/markers", params={"south": 10, "north": 0})
    assert wrong.status_code == 422
    assert "detail" in wrong.json()


def test_pages_may_load_images_only_from_the_tile_source_when_one_is_set():
    from trove.api.web_safety import UI_CSP, HostPolicy, _page_csp
    from trove.config import Settings

    unset = HostPolicy.from_settings(Settings())
    assert _page_csp("/map", unset) == UI_CSP
    tiles = Settings(map_tiles="https://tiles.example.org/{z}/{x}/{y}.png")
    csp = _page_csp("/map", HostPolicy.from_settings(tiles))
    assert "img-src 'self' data: blob: https://tiles.example.org;" in csp
    assert "connect-src 'self';" in csp


class _SeesTheIndex:
    """A step between the metadata and places steps: whether the index got loaded while it
    ran, before the places step could have loaded it (for a picture with a position it waits
    up to 10 s for the load)."""

    name, version, requires, required = "sees-index", 1, (), False

    def __init__(self, index: GeoNamesIndex) -> None:
        self.index = index
        self.seen: list[bool] = []

    def applies_to(self, asset: AssetView) -> bool:
        return asset.asset_type == "image"

    def process(self, asset: AssetView):  # type: ignore[no-untyped-def]
        from trove.pipeline.processor import StepResult

        deadline = time.monotonic() + (10 if PlacesProcessor().applies_to(asset) else 0)
        while not self.index.loaded and time.monotonic() < deadline:
            time.sleep(0.02)
        self.seen.append(self.index.loaded)
        return StepResult.ok()


@pytest.mark.databases("sqlite")
def test_the_index_loads_ahead_once_a_position_is_read_and_never_for_pictures_without_one(
    settings, tmp_path
):
    """The index takes half a second of a core to load, and both pipeline threads waited for
    it at a run's first photos. The runner offers each step's outcome to its
    WarmableProcessors: the index loads in the background once the metadata step has read a
    position, while the steps between run; a run of pictures without a position never
    loads it."""
    from trove.pipeline.processors.metadata import MetadataProcessor
    from trove.pipeline.runner import PipelineRunner
    from trove.repositories._sql import utcnow
    from trove.repositories.pipeline import PipelineRepository
    from trove.services.library import LibraryService

    (tmp_path / "places.csv").write_text(
        "lat,lon,name,admin1,admin2,cc\n35.01,135.77,Kyoto,Kyoto,,JP\n"
    )
    kyoto = camera_exif(lat=(35.0, 0.0, 41.8, "N"), lon=(135.0, 46.0, 5.2, "E"))
    library = LibraryService(settings)
    outcomes = {}
    for name, exif in {"no gps": None, "kyoto": kyoto}.items():
        root = tmp_path / name
        write_photo(root / f"{name}.jpg", exif=exif)
        library.scan_and_process([str(root)], wait=False)
        with library.database.session() as session:
            ids = PipelineRepository(session).ids_to_kick(
                now=utcnow(), limit=10, include_queued=True
            )
        index = GeoNamesIndex(tmp_path / "places.csv")
        probe = _SeesTheIndex(index)
        steps = [MetadataProcessor(settings), probe, PlacesProcessor(index)]
        runner = PipelineRunner(settings, library.database, steps)
        runner.run_batch(ids)
        runner.close()  # waits for the background load
        outcomes[name] = (probe.seen, index.loaded)
    library.database.dispose()
    assert outcomes == {"no gps": ([False], False), "kyoto": ([True], True)}
