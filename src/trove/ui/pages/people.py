"""People: the faces Trove found, grouped into people (PeopleService). Naming a group makes a
Person its faces and photos depict; a name already given merges; moving one face to another
name splits it off; "Merge" folds a whole person into another."""

from __future__ import annotations

from typing import Any

from nicegui import ui

from trove.ui.context import call, current_viewer, services
from trove.ui.layout import frame

FACES_SHOWN = 24
FACE_PX = 96


def people_of(viewer: Any) -> dict[str, Any]:
    return services().people.people(viewer=viewer)


def name_faces(faces: list[str], name: str, viewer: Any) -> dict[str, Any]:
    return services().people.name(faces, name, viewer=viewer)


def merge_people(people: list[str], into: str, viewer: Any) -> dict[str, Any]:
    return services().people.merge(people, into, viewer=viewer)


class PeoplePage:
    async def build(self) -> None:
        with frame(active="/people", title="People"):
            pass
        self.viewer = current_viewer()
        with ui.column().classes("trove-page w-full gap-4"):
            ui.label("People").classes("text-h5 trove-page-title")
            self.body = ui.column().classes("w-full gap-4")
        await self.refresh()

    async def refresh(self) -> None:
        found = await call(people_of, self.viewer)
        self.body.clear()
        with self.body:
            if not found["people"] and not found["unnamed"]:
                ui.label(
                    "No faces yet: turn on face finding (TROVE_AI_FACES) and process photos."
                ).classes("text-grey-8")
            names = {p["id"]: p["name"] for p in found["people"]}
            for person in found["people"]:
                self.person_card(person, names)
            if found["unnamed"]:
                ui.label("Not named yet").classes("text-h6")
            for group in found["unnamed"]:
                self.group_card(group, names)

    def person_card(self, person: dict[str, Any], names: dict[str, str]) -> None:
        with ui.card().classes("w-full trove-person").props("flat bordered"):
            with ui.row().classes("items-center gap-3 w-full"):
                ui.icon("person", size="28px", color="primary")
                ui.label(person["name"]).classes("text-weight-medium trove-person-name")
                ui.label(f"{len(person['photos'])} photo(s)").classes("text-caption text-grey-7")
                others = {i: n for i, n in names.items() if i != person["id"]}
                if others and self.viewer.can_write:
                    target = ui.select(others, label="Merge into").classes("min-w-[12rem]")
                    ui.button(
                        "Merge", on_click=lambda t=target: self.merge(person["id"], t.value)
                    ).props("flat no-caps")
            with ui.row().classes("gap-2"):
                for face in person["faces"][:FACES_SHOWN]:
                    self.face_tile(face, split=True)

    def group_card(self, group: dict[str, Any], names: dict[str, str]) -> None:
        faces = group["faces"]
        with ui.card().classes("w-full trove-face-group").props("flat bordered"):
            with ui.row().classes("gap-2"):
                for face in faces[:FACES_SHOWN]:
                    self.face_tile(face, split=False)
            if self.viewer.can_write:
                suggested = names.get(group.get("suggested_person_id") or "", "")
                with ui.row().classes("items-center gap-2"):
                    name = ui.input("Who is this?", value=suggested).classes("trove-face-name")
                    ui.button(
                        "Name",
                        on_click=lambda: self.name([f["key"] for f in faces], name.value),
                    ).props("unelevated no-caps")

    def face_tile(self, face: dict[str, Any], *, split: bool) -> None:
        with ui.column().classes("items-center gap-0"):
            with ui.link(target=f"/?asset={face['asset_id']}"):
                ui.element("div").classes("trove-face rounded-borders").style(face_style(face))
            if split and self.viewer.can_write:
                ui.button("Not them", on_click=lambda: self.split(face["key"])).props(
                    "flat dense no-caps size=sm"
                )

    async def name(self, faces: list[str], name: str) -> None:
        if not (name or "").strip():
            ui.notify("Type a name first", type="warning")
            return
        await call(name_faces, faces, name, self.viewer)
        await self.refresh()

    async def merge(self, person_id: str, into: str | None) -> None:
        if into:
            await call(merge_people, [person_id], into, self.viewer)
            await self.refresh()

    async def split(self, face: str) -> None:
        with ui.dialog() as dialog, ui.card():
            name = ui.input("Who is it, then?")
            with ui.row():
                ui.button("Move", on_click=lambda: dialog.submit(name.value))
                ui.button("Cancel", on_click=lambda: dialog.submit(None)).props("flat")
        chosen = await dialog
        if chosen:
            await self.name([face], chosen)


def face_style(face: dict[str, Any]) -> str:
    """The face cut from its photo's preview by CSS alone: a region's own crop may still be
    being made when the face was just named."""
    if not face.get("preview"):
        return f"width: {FACE_PX}px; height: {FACE_PX}px"
    x, y, w, h = (float(v) for v in (face.get("bbox") or [0, 0, 1, 1]))
    position_x = x / (1 - w) * 100 if w < 1 else 0
    position_y = y / (1 - h) * 100 if h < 1 else 0
    return (
        f"width: {FACE_PX}px; height: {FACE_PX}px; background-repeat: no-repeat;"
        f" background-image: url('{face['preview']}');"
        f" background-size: {100 / w:.1f}% {100 / h:.1f}%;"
        f" background-position: {position_x:.1f}% {position_y:.1f}%"
    )


async def people_page() -> None:
    await PeoplePage().build()
