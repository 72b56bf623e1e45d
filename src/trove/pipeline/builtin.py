"""Trove's own processors, registered through the same hook a third-party plugin uses."""

from trove.pipeline.processors.fingerprint import Sha256Processor
from trove.plugins.hookspecs import hookimpl


@hookimpl
def register_media_processors():  # type: ignore[no-untyped-def]
    return [Sha256Processor()]
