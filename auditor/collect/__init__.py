"""Collectors: each turns one kind of place into facts and error entries.

The interface every public collector function keeps:

- It takes a `View` (auditor.fs: the confined, size-capped view of one target; every read of the target
  goes through it) and what it reads: host paths inside the view, the scan's label (`target`) for the
  components it makes, and the options of its kind (the watched package names, an `Environ`, `Accounts`).
  It executes nothing of the target unless its name says it runs a program (--runtime), and then bounded.
- It returns its facts together with its error entries (`ScanError(location, message)`: what it could not
  read and why, in the order met): `Collected` below where the facts are components; a small record
  of the module, with a field `errors: list[ScanError]` beside its facts, where they are something else
  (`Accounts`, `Homes`, `Installs`, `Folders`, `SysPath`, `BaseStdlib`, `CodeSettings`, `TrustSettings`,
  `Services`, `JavaHomes`, `RubyTrust`, a lockfile reader's `Pins`, the walk's `Discovery`); a `Collected` with
  one more field where it gives one more fact beside components (`PathPackages`, `Manifests`).
- It never appends into an error list passed in and never returns `Component | ScanError` or a
  `(value, errors)` pair; the caller merges what it got (`Collected.extend`, or `errors.extend(x.errors)`).
  A private helper of one module may still fill an accumulator where that is simpler.
- Its facts are complete when it returns them; a bad input is an error entry and the rest goes on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from auditor.fs import View
from auditor.model import Component, ScanError
from auditor.records import field, mutable_record, record

if TYPE_CHECKING:
    from auditor.collect.config.environ import Environ


@mutable_record
class PythonPath:
    """One interpreter's import path (host directories, in order) and the packages found on it."""

    view: View
    entries: list[str]
    components: list[Component]
    # The contexts it runs in, when a service of the system runs it: (auditor.collect.config.trust_settings.TrustSettings,
    # why), e.g. a systemd unit whose ExecStart= is its bin/python. Empty: the scan's own environment.
    contexts: list = field(default_factory=list)


@mutable_record
class CliV2:
    """An AWS CLI v2 install: its dist directory and its component."""

    view: View
    dist: str
    component: Component


@mutable_record
class Collected:
    """What a collector found: components, errors, and counts worth showing."""

    components: list[Component] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)
    # Import paths and AWS CLI v2 installs read, for the trust-store resolver (auditor.trust.resolve).
    python_paths: list[PythonPath] = field(default_factory=list)
    cli_v2: list[CliV2] = field(default_factory=list)
    # SDKs of other languages to link to their stores (auditor.collect.sdks.SdkClient).
    sdk_clients: list = field(default_factory=list)

    def extend(self, other: "Collected") -> None:
        self.components.extend(other.components)
        self.errors.extend(other.errors)
        self.python_paths.extend(other.python_paths)
        self.cli_v2.extend(other.cli_v2)
        self.sdk_clients.extend(other.sdk_clients)

    def nothing_read(self, location: str) -> bool:
        """Whether the file at `location` (a target named on the command line) gave nothing: no component, and an
        error entry about the file itself."""
        return not self.components and any(e.location == location for e in self.errors)


@record
class Origin:
    """A value and the place that set it: `variable` of the environment, or `path` and `line`."""

    value: str
    variable: str = ""
    path: str = ""
    line: int | None = None
    note: str = ""
    found_in: str = ""  # where a report says it was set: "config file", "systemd unit", "crontab", …; "" for the environment
    unknown: str = ""  # why the value is known only where the client runs ("" when it is known)

    def describe(self, environ: Environ) -> str:
        if self.path:
            return f"{self.path}:{self.line}: {self.note or self.value}"
        return f"{self.note or f'{self.variable}={self.value}'} (from {environ.origin})"
