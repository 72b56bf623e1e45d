"""Trove's own drivers, registered through the hook a third-party plugin uses."""

from __future__ import annotations

from trove.config import Settings
from trove.drivers.app_package import AppPackageDriver
from trove.drivers.audio import AudioDriver
from trove.drivers.base import BaseAssetDriver
from trove.drivers.collection import CollectionDriver
from trove.drivers.document import DocumentDriver
from trove.drivers.image import ImageDriver
from trove.drivers.log_entry import LogEntryDriver
from trove.drivers.other import OtherDriver
from trove.drivers.proxy import ProxyDriver
from trove.drivers.region import RegionDriver
from trove.drivers.texture_pack import TexturePackDriver
from trove.drivers.url import UrlDriver
from trove.drivers.video import VideoDriver
from trove.plugins.hookspecs import hookimpl


@hookimpl
def register_asset_drivers(settings: Settings) -> list[BaseAssetDriver]:
    return [
        ImageDriver(),
        VideoDriver(),
        AudioDriver(),
        DocumentDriver(),
        CollectionDriver(),
        OtherDriver(),
        ProxyDriver(),
        LogEntryDriver(),
        TexturePackDriver(),
        AppPackageDriver(),
        UrlDriver(settings),
        RegionDriver(),
    ]
