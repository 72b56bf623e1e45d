"""FastAPI dependencies: the services live on app.state, built once by create_app."""

from typing import Annotated

from fastapi import Depends, Request

from trove.services.container import Services


def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]
