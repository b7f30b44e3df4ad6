"""Collectors: each turns one kind of place into facts (components) and error entries."""

from __future__ import annotations

from dataclasses import dataclass, field

from auditor.model import Component, ScanError


@dataclass
class Collected:
    """What a collector found: components, errors, and counts worth showing."""

    components: list[Component] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)

    def extend(self, other: "Collected") -> None:
        self.components.extend(other.components)
        self.errors.extend(other.errors)
