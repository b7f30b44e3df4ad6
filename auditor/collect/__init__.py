"""Collectors: each turns one kind of place into facts (components) and error entries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from auditor.model import Component, ScanError


@dataclass
class Collected:
    """What a collector found: components, errors, and counts worth showing."""

    components: list[Component] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)
    # Import paths and AWS CLI v2 installs read, for the trust-store resolver (auditor.trust).
    python_paths: list[Any] = field(default_factory=list)
    cli_v2: list[Any] = field(default_factory=list)

    def extend(self, other: "Collected") -> None:
        self.components.extend(other.components)
        self.errors.extend(other.errors)
        self.python_paths.extend(other.python_paths)
        self.cli_v2.extend(other.cli_v2)
