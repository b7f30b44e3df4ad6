"""The facts of a Python package (a python-package component): an install found on a sys.path, or a requirement
a lockfile or a project's declaration states."""

from __future__ import annotations

from typing import Any, Mapping

from auditor.facts import json_copy
from auditor.records import fields, record


@record
class OnPath:
    """The sys.path entry an install sits in, and why that entry is on sys.path."""

    entry: str  # the path entry as shown
    origin: str  # "site directory", "easy-install.pth line 3 (moved to the front by its import line)" …


@record
class Requirement:
    """What a lockfile, a requirements file or a project's declaration says of a package: the range it admits, and
    what else the file states beside it. The file's own words are kept in the order its reader states them (`stated`),
    as reports have always shown them; a field not in `stated` is not stated."""

    specifier: str  # as written: "==2.9.0", "<0.22", "@ URL", "" (any release)
    pinned: bool  # the file pins exactly one release
    stated: tuple[str, ...] = ()  # the names of the fields below the file states, in the order its reader states them
    section: str | None = None  # Pipfile.lock: default | develop
    group: str | None = None  # a dependency group (Poetry, PDM, uv, PEP 735)
    optional: bool | None = None  # Poetry's optional = true
    allow_prereleases: bool | None = None  # Poetry's allow-prereleases = true
    develop: bool | None = None  # Poetry's develop = true
    extras: tuple[str, ...] = ()  # the package's extras it asks for
    index: str | None = None  # the named package index (Pipfile index, Poetry source)
    editable: bool | None = None  # Pipfile's editable = true
    python: str | None = None  # Poetry's python constraint, as written
    marker: str | None = None  # the environment marker where it applies
    extra: str | None = None  # the project's own extra that declares it
    url: str | None = None  # a direct reference (redacted)
    vcs_ref: str | None = None  # the ref of a VCS URL; None when the URL names none
    git: str | None = None
    path: str | None = None
    file: str | None = None
    branch: str | None = None
    tag: str | None = None
    rev: str | None = None
    ref: str | None = None
    subdirectory: str | None = None
    included_by: tuple[str, ...] = ()  # the dependency groups that include its group
    declared_by: str | None = None  # the declaration that names the requirements file it is in
    channel: str | None = None  # conda: the channel (its token concealed)
    build: str | None = None  # conda: the build string
    written: str | None = None  # the range as written, where it was converted to PEP 440
    repeated: str | None = None  # "also required at FILE line N"
    source: dict[str, str] | None = None  # a lockfile's package source other than the registry
    bom_ref: str | None = None  # a CycloneDX SBOM's component: its bom-ref
    spdx_id: str | None = None  # an SPDX SBOM's package: its SPDXID

    def __post_init__(self) -> None:
        unknown = [name for name in self.stated if name not in STATED_FIELDS]
        if unknown:
            raise TypeError(f"a requirement states no field {', '.join(map(repr, unknown))}")

    @classmethod
    def of(cls, specifier: str, pinned: bool, stated: Mapping[str, Any]) -> Requirement:
        """A requirement from what its reader collected of the file's words (name -> value, in the order stated);
        a name that is not a field is a TypeError, as a record's constructor makes it."""
        values: dict[str, Any] = {name: tuple(value) if isinstance(value, list) else value
                                  for name, value in stated.items()}
        return cls(specifier, pinned, tuple(stated), **values)

    def to_details(self) -> dict[str, Any]:
        details = {name: json_copy(getattr(self, name)) for name in self.stated}
        details.update(specifier=self.specifier, pinned=self.pinned)
        return details

    @classmethod
    def from_details(cls, details: Mapping[str, Any]) -> Requirement:
        return cls.of(details.get("specifier", ""), details["pinned"],
                      {name: value for name, value in details.items() if name in STATED_FIELDS})


STATED_FIELDS = frozenset(f.name for f in fields(Requirement)) - {"specifier", "pinned", "stated"}


@record
class PackageFacts:
    """A Python package as its collector found it, complete when the component is made: where an install sits on
    sys.path and whether `import` loads it (an environment, an archive, the AWS CLI v2 installer, the botocore the
    AWS CLI carries), or what a file requires of it (a lockfile, a declaration). The store it uses as a client is
    not here: the trust stage links it (`ClientTrust`)."""

    carried_by: str | None = None  # "awscli 1.46.3": a copy that package carries inside itself
    distribution: str | None = None  # how it is distributed, where that is not a Python distribution's metadata
    on_path: OnPath | None = None
    active: bool | None = None  # the install `import` loads; None where that is not judged
    note: str | None = None  # what is odd about the install ("metadata without the package directory beside it")
    module_version: str | None = None  # the package's own __version__, where it differs from its metadata's version
    shadowed_by: str | None = None  # the id of the install `import` loads in its place
    requirement: Requirement | None = None

    @property
    def specifier(self) -> str | None:
        """The range a requirement admits ("" for any release); None for an install."""
        return self.requirement.specifier if self.requirement is not None else None

    @property
    def loaded(self) -> bool:
        """Whether `import` would load this install (a requirement, or an install not judged, counts as loaded)."""
        return self.active is not False

    def to_details(self) -> dict[str, Any]:
        details: dict[str, Any] = {}
        if self.carried_by is not None:
            details["carried_by"] = self.carried_by
        if self.distribution is not None:
            details["distribution"] = self.distribution
        if self.on_path is not None:
            details.update(path_entry=self.on_path.entry, path_origin=self.on_path.origin)
        if self.active is not None:
            details["active"] = self.active
        if self.note is not None:
            details["note"] = self.note
        if self.module_version is not None:
            details["module_version"] = self.module_version
        if self.shadowed_by is not None:
            details["shadowed_by"] = self.shadowed_by
        if self.requirement is not None:
            details.update(self.requirement.to_details())
        return details

    @classmethod
    def from_details(cls, details: Mapping[str, Any]) -> PackageFacts:
        """A package's facts read back from its details (a saved report's); keys of other stages (its trust) are
        not its facts and are left out."""
        on_path = OnPath(details["path_entry"], details["path_origin"]) if "path_entry" in details else None
        requirement = Requirement.from_details(details) if "pinned" in details else None
        return cls(details.get("carried_by"), details.get("distribution"), on_path, details.get("active"),
                   details.get("note"), details.get("module_version"), details.get("shadowed_by"), requirement)
