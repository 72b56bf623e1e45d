"""What users made survives the database: `trove export` writes it as JSON lines keyed by
content hash and path, `trove import` puts it back into an index rebuilt from the disk.

The index can always be rebuilt from the files; what people typed and drew cannot, so that is
what is exported: accounts, the libraries assigned to them, entities, who uploaded a file and
the title/description/tags/visibility/rating of files, web pages, notes and regions (faces
named), albums, links, share links. One record a line, after a header:

    {"kind": "header", "format": "trove-user-data", "version": 3, "exported_at": ...,
     "secrets": false}
    {"kind": "user", "key": ..., "name": ..., "admin": ..., ["password_hash": ...]}
    {"kind": "library", "path": ..., "members": [{"user": name, "can_write": ...}, ...]}
    {"kind": "entity", "key": ..., "type": "Person", "name": ..., "metadata": {...}}
    {"kind": "asset", "ref": REF, "title": ..., "description": ..., "tags": [...],
     "visibility": ..., "metadata": {writable namespace: {...}}, "edits": [op, ...],
     ["owner": user name (an upload: who made it)]}
    {"kind": "declined_regions", "ref": REF, "boxes": [[x, y, w, h], ...]}  (face regions a
     sidecar gives that a person deleted: an index rebuilt from the disk makes them again)
    {"kind": "virtual", "key": ..., "type": "url" | "log_entry" | "region", "data": {...},
     "owner": user name, + the asset fields}
    {"kind": "album", "key": ..., "name": ..., "description": ..., "owner": ...,
     "parent": key | null, "members": [REF, ...] (in order), "cover": REF | null, "tags": [...]}
    {"kind": "link", "source": REF, "target": REF, "relation": ..., "weight": ..., "metadata": {}}
    {"kind": "share", "target": REF, "owner": ..., "expires_at": ..., ["token", "password_hash"]}
    {"kind": "preferred_copy", "ref": REF}  (the copy of a file the gallery shows)
    {"kind": "end", "records": the number of lines before it}  (from version 3)

REFs are described in `records.py`, each kind in its section's module (`sections.py` lists
them). Import finds a file by its hash first, then by its path: files moved or renamed since
the export are found, and a library mounted elsewhere is matched by content. Of identical
copies each record gets its own (`copies.py`), never one another record took. Importing twice
changes nothing the second time.
Version 1 files (no users, virtual assets or shares) and version 2 files (no end record)
import as they are; a version 3 file without its end record is cut short and refused whole.
"""

from trove.services.user_data.records import FORMAT, VERSION, ImportReport
from trove.services.user_data.service import UserDataService

__all__ = ["FORMAT", "VERSION", "ImportReport", "UserDataService"]
