"""The sections of an export, in the order an import needs them: accounts before what they
own, files and notes before the albums that hold them, the face regions a person deleted
before the regions people drew (one drawn where a deleted face was is made anew), everything
before the links and shares that point at it. Add a kind of user data by adding its section
here."""

from __future__ import annotations

from trove.services.user_data.albums import AlbumSection
from trove.services.user_data.declined import DeclinedRegionSection
from trove.services.user_data.entities import EntitySection
from trove.services.user_data.files import FileSection
from trove.services.user_data.libraries import LibrarySection
from trove.services.user_data.links import LinkSection
from trove.services.user_data.preferred import PreferredCopySection
from trove.services.user_data.section import Section
from trove.services.user_data.shares import ShareSection
from trove.services.user_data.users import UserSection
from trove.services.user_data.virtual import VirtualSection

SECTIONS: tuple[Section, ...] = (
    UserSection(),
    LibrarySection(),
    EntitySection(),
    FileSection(),
    DeclinedRegionSection(),  # before regions: one a person drew where a face was declined
    VirtualSection(),
    AlbumSection(),
    LinkSection(),
    ShareSection(),
    PreferredCopySection(),
)
