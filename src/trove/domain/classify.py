"""From a MIME type to the seed's AssetType."""

from trove.domain.enums import AssetType

_DOCUMENT_MIMES = frozenset(
    {
        "application/pdf",
        "application/msword",
        "application/rtf",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.spreadsheet",
        "application/vnd.oasis.opendocument.presentation",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        "application/epub+zip",
        "application/postscript",
        "application/json",
        "application/xml",
    }
)
_PREFIX_TYPES = {
    "image/": AssetType.IMAGE,
    "video/": AssetType.VIDEO,
    "audio/": AssetType.AUDIO,
    "text/": AssetType.DOCUMENT,
}


def asset_type_for(mime_type: str | None) -> AssetType:
    if not mime_type:
        return AssetType.OTHER
    for prefix, asset_type in _PREFIX_TYPES.items():
        if mime_type.startswith(prefix):
            return asset_type
    if mime_type in _DOCUMENT_MIMES or mime_type.startswith("application/vnd.openxmlformats"):
        return AssetType.DOCUMENT
    return AssetType.OTHER
