"""FastAPI dependencies: the services live on app.state, built once by create_app; the caller
is a `Viewer` (domain/access.py).

Every route declares its access policy explicitly by taking exactly one of these (a test walks
the route table and fails for a route without one):
- `PublicAccess` (in `dependencies=`): anyone, e.g. login, health, a share-link page;
- `ViewerDep`: a signed-in user (or the local owner with TROVE_AUTH=off); reads are scoped by
  passing the viewer to the service, whose repositories narrow by it;
- `WriterDep`: a signed-in user whose credential may change things (a read-scoped token may not);
- `AdminDep`: an admin (libraries, users, maintenance); changes need a credential that may
  write.

A NiceGUI page declares its policy the same way, in `ui.page(..., dependencies=[...])`:
`PublicPage` (sign-in, set-up, a share-link page), `SignedInPage` (signed out, the browser is
sent to /login and back), `AdminPage`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from trove.domain.access import Viewer
from trove.services.container import Services


def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


def current_viewer(request: Request) -> Viewer:
    """Who is asking: set on the request by the authentication layer; without accounts
    (TROVE_AUTH=off, loopback only) the one local user."""
    viewer = getattr(request.state, "viewer", None)
    if isinstance(viewer, Viewer):
        return viewer
    if not request.app.state.services.settings.auth:
        return Viewer.local_owner()
    return Viewer.anonymous()


def client_address(request: Request) -> str:
    """Who is knocking, for the throttles of sign-in and share passwords."""
    return request.client.host if request.client else "unknown"


def public_access() -> None:
    """Marks a route open to anyone (the policy is explicit, not forgotten)."""


def signed_in(viewer: Annotated[Viewer, Depends(current_viewer)]) -> Viewer:
    if not viewer.is_signed_in:
        raise HTTPException(401, "Sign in to use this.", headers={"WWW-Authenticate": "Bearer"})
    return viewer


def writer(viewer: Annotated[Viewer, Depends(signed_in)]) -> Viewer:
    if not viewer.can_write:
        raise HTTPException(403, "This credential is read-only.")
    return viewer


def admin(request: Request, viewer: Annotated[Viewer, Depends(signed_in)]) -> Viewer:
    if not viewer.is_admin:
        raise HTTPException(403, "Only an admin may do this.")
    if request.method not in _READS and not viewer.can_write:
        raise HTTPException(403, "This credential is read-only.")
    return viewer


class SignInRequired(Exception):
    """A page was asked for while signed out: the browser goes to /login, then back here."""

    def __init__(self, target: str) -> None:
        super().__init__(target)
        self.target = target


def signed_in_page(request: Request, viewer: Annotated[Viewer, Depends(current_viewer)]) -> Viewer:
    if not viewer.is_signed_in:
        query = f"?{request.url.query}" if request.url.query else ""
        raise SignInRequired(request.url.path + query)
    return viewer


def admin_page(viewer: Annotated[Viewer, Depends(signed_in_page)]) -> Viewer:
    if not viewer.is_admin:
        raise HTTPException(403, "Only an admin may open this page.")
    return viewer


_READS = frozenset({"GET", "HEAD", "OPTIONS"})

PublicAccess = Depends(public_access)
ViewerDep = Annotated[Viewer, Depends(signed_in)]
WriterDep = Annotated[Viewer, Depends(writer)]
AdminDep = Annotated[Viewer, Depends(admin)]
PublicPage = PublicAccess
SignedInPage = Depends(signed_in_page)
AdminPage = Depends(admin_page)

# What the route-table test looks for: every route takes one of these (directly).
POLICIES = (public_access, signed_in, writer, admin, signed_in_page, admin_page)
