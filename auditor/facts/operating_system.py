"""The facts of an operating system (an "os" component): what its own files, or on Windows the running
interpreter, say it is."""

from __future__ import annotations

from typing import Any

from auditor import records
from auditor.records import record



@record
class OsFacts:
    """What the source that named the system says about it (auditor.collect.platform.os_identity). A field the
    source does not give is None, and so is an empty value (`PRETTY_NAME=""` says nothing): such a field is left out
    of the details. The fields are in the order of the details of every source."""

    name: str | None = None  # NAME, DISTRIB_ID, the release file's name, ProductName, "Windows 7"
    release: str | None = None  # Windows: platform.win32_ver()'s release ("XP", "7", "2008ServerR2")
    service_pack: str | None = None  # Windows: "SP3"; None for none
    pretty_name: str | None = None  # PRETTY_NAME, DISTRIB_DESCRIPTION, the release file's line, "macOS 14.5"
    edition: str | None = None  # Windows: platform.win32_edition()
    id_like: str | None = None  # os-release ID_LIKE: the distributions it derives from
    version_id: str | None = None  # os-release VERSION_ID (the component's version may be more precise)
    codename: str | None = None  # VERSION_CODENAME, DISTRIB_CODENAME, "(Core)", Debian's "lenny/sid"
    build: str | None = None  # macOS ProductBuildVersion
    read: str | None = None  # what was read that names the system and its version
    version_from: str | None = None  # the distribution's own file, where it made VERSION_ID more precise
    product_type: str | None = None  # Windows: workstation, server or domain controller

    def __post_init__(self) -> None:
        for name in OS_KEYS:
            if getattr(self, name) == "":
                object.__setattr__(self, name, None)  # an empty value says nothing: the details have always left it out

    def to_details(self) -> dict[str, Any]:
        return {name: value for name in OS_KEYS if (value := getattr(self, name)) is not None}

    @classmethod
    def from_details(cls, details: dict[str, Any]) -> OsFacts:
        return cls(**{name: details[name] for name in OS_KEYS if name in details})


OS_KEYS = tuple(f.name for f in records.fields(OsFacts))
