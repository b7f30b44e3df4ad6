"""Collectors: each turns one kind of place into facts (components) and error entries."""

from __future__ import annotations

from dataclasses import dataclass, field

from auditor.fs import View
from auditor.model import Component, ScanError


@dataclass
class PythonPath:
    """One interpreter's import path (host directories, in order) and the packages found on it."""

    view: View
    entries: list[str]
    components: list[Component]
    # The contexts it runs in, when a service of the system runs it: (auditor.collect.trust_settings.TrustSettings,
    # why), e.g. a systemd unit whose ExecStart= is its bin/python. Empty: the scan's own environment.
    contexts: list = field(default_factory=list)


@dataclass
class CliV2:
    """An AWS CLI v2 install: its dist directory and its component."""

    view: View
    dist: str
    component: Component


@dataclass
class Collected:
    """What a collector found: components, errors, and counts worth showing."""

    components: list[Component] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)
    # Import paths and AWS CLI v2 installs read, for the trust-store resolver (auditor.trust).
    python_paths: list[PythonPath] = field(default_factory=list)
    cli_v2: list[CliV2] = field(default_factory=list)
    # SDKs of other languages to link to their stores (auditor.collect.sdk_manifests.SdkClient).
    sdk_clients: list = field(default_factory=list)

    def extend(self, other: "Collected") -> None:
        self.components.extend(other.components)
        self.errors.extend(other.errors)
        self.python_paths.extend(other.python_paths)
        self.cli_v2.extend(other.cli_v2)
        self.sdk_clients.extend(other.sdk_clients)
