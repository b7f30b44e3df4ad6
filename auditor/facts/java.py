"""The facts of a JDK or JRE (a "java" component): which Java version and vendor its files say it is, and how it
was found."""

from __future__ import annotations

from typing import Any

from auditor.records import record



@record
class JavaFacts:
    """A Java home as auditor.collect.platform.java described it; the component's version is the version as read.
    A field that is None was not learnt, and is left out of the details."""

    vendor: str | None = None  # "Eclipse Adoptium", "Oracle", "OpenJDK" …
    version_source: str | None = None  # release file | rt.jar manifest | directory name | java -version
    version_read: str | None = None  # what was read, and where
    version_exact: bool | None = None  # whether the version names the update level (None: no version was read)
    found_by: tuple[str, ...] = ()  # "JAVA_HOME=…", "PATH: /usr/bin/java", "/usr/lib/jvm/*"

    def to_details(self) -> dict[str, Any]:
        details: dict[str, Any] = {}
        for name in ("vendor", "version_source", "version_read", "version_exact"):
            if (value := getattr(self, name)) is not None:
                details[name] = value
        details["found_by"] = list(self.found_by)
        return details

    @classmethod
    def from_details(cls, details: dict[str, Any]) -> JavaFacts:
        return cls(details.get("vendor"), details.get("version_source"), details.get("version_read"),
                   details.get("version_exact"), tuple(details.get("found_by", ())))
