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
# A ZIP is indexed in place as a texture pack (seed 4.8); a Windows executable or installer
# database is an app package. Office files, EPUBs and JARs have MIME types of their own.
_COMPOSITE_MIMES = {
    "application/zip": AssetType.TEXTURE_PACK,
    "application/x-zip-compressed": AssetType.TEXTURE_PACK,
    "application/vnd.microsoft.portable-executable": AssetType.APP_PACKAGE,
    "application/x-dosexec": AssetType.APP_PACKAGE,
    "application/x-msdownload": AssetType.APP_PACKAGE,
    "application/x-msdos-program": AssetType.APP_PACKAGE,
    "application/x-msi": AssetType.APP_PACKAGE,
}
_PREFIX_TYPES = {
    "image/": AssetType.IMAGE,
    "video/": AssetType.VIDEO,
    "audio/": AssetType.AUDIO,
    "text/": AssetType.DOCUMENT,
}


def asset_type_for(mime_type: str | None) -> AssetType:
    if not mime_type:
        return AssetType.OTHER
    if mime_type in _COMPOSITE_MIMES:
        return _COMPOSITE_MIMES[mime_type]
    for prefix, asset_type in _PREFIX_TYPES.items():
        if mime_type.startswith(prefix):
            return asset_type
    if mime_type in _DOCUMENT_MIMES or mime_type.startswith("application/vnd.openxmlformats"):
        return AssetType.DOCUMENT
    return AssetType.OTHER
