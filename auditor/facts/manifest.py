"""The facts of an AWS SDK of another language as a manifest or lockfile names it (an sdk-manifest component)."""

from __future__ import annotations

from typing import Any

from auditor.records import record



@record
class ManifestFacts:
    """One SDK package a file names, where its trust comes from, and its place in the file's group: the first of
    each (SDK generation, trust source) carries the file's finding and names the others (`same_file_packages`),
    which point at it (`reported_with`). Complete when auditor.collect.sdks makes it, but for `store_not_found`."""

    ecosystem: str  # npm | maven | go | composer | nuget | vcpkg | rubygems
    sdk: str  # "AWS SDK for JavaScript v3" …
    constraint: str  # as written; "" when none
    trust_from: str  # node | jvm | os | openssl | bundled
    trust_note: str  # why its trust comes from there, as the collector knows it
    direct: bool | None = None  # None: the file does not say
    dev: bool = False
    notes: tuple[str, ...] = ()
    same_file_packages: tuple[str, ...] = ()  # the group's other packages ("name version"), on the group's first
    reported_with: str | None = None  # the id of the group's first, on the others
    # The trust stage's link (set only by auditor.trust.sdk_link): why the scanned system has no store of the kind
    # the SDK uses. Reports have always added it to the note.
    store_not_found: str | None = None
    # Named by a software bill of materials: the component's reference in it (CycloneDX bom-ref, SPDX SPDXID).
    bom_ref: str | None = None
    spdx_id: str | None = None

    @property
    def note(self) -> str:
        """Where its trust comes from and why, as reports show it: the collector's note and the trust stage's."""
        return self.trust_note if self.store_not_found is None else f"{self.trust_note}; {self.store_not_found}"

    def to_details(self) -> dict[str, Any]:
        details: dict[str, Any] = {"ecosystem": self.ecosystem, "sdk": self.sdk, "constraint": self.constraint,
                                   "trust_from": self.trust_from, "trust_note": self.note}
        if self.direct is not None:
            details["direct"] = self.direct
        if self.dev:
            details["dev"] = True
        if self.notes:
            details["notes"] = list(self.notes)
        if self.same_file_packages:
            details["same_file_packages"] = list(self.same_file_packages)
        if self.reported_with is not None:
            details["reported_with"] = self.reported_with
        if self.bom_ref is not None:
            details["bom_ref"] = self.bom_ref
        if self.spdx_id is not None:
            details["spdx_id"] = self.spdx_id
        return details

    @classmethod
    def from_details(cls, details: dict[str, Any]) -> ManifestFacts:
        """A saved report's note already holds the trust stage's `store_not_found`: it is read as the note."""
        return cls(details["ecosystem"], details["sdk"], details["constraint"], details["trust_from"],
                   details["trust_note"], details.get("direct"), details.get("dev", False),
                   tuple(details.get("notes", ())), tuple(details.get("same_file_packages", ())),
                   details.get("reported_with"), bom_ref=details.get("bom_ref"), spdx_id=details.get("spdx_id"))
