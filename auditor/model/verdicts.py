"""The records of verdicts: a component judged against a platform matrix, and a client's answer with its reasons.

Apart from the rest of the model (auditor.model re-exports them), so that a command that judges no client and no
platform (`auditor truststore`) does not define them: each record class compiles its __init__ at start-up."""

from __future__ import annotations

from typing import Optional

from auditor.model import ANSWERS, REASON_KINDS
from auditor.records import record


@record
class Verdict:
    """A component judged against a platform matrix (rules/os-matrix.toml, rules/java-matrix.toml)."""

    status: str  # the band's status: supported, unsupported, verify (Java's TLS table also off_by_default)
    label: str  # the component as a finding names it: "Mac OS X 10.4.11", "Java 1.4.2_11 (Oracle)"
    note: str  # why, from the matrix
    documented: Optional[str]  # the row's restatement of its source; None for a system the matrix does not name
    observed: tuple[str, ...]


@record
class Reason:
    """One link of a client verdict's reason chain."""

    kind: str  # one of REASON_KINDS
    text: str


@record
class ClientVerdict:
    """The answer for one client to "will it trust the ATS-served endpoint?" (auditor.checks.verdicts), with the
    reasons in the order they were weighed and the findings that are their evidence."""

    client: str  # the client's component id
    label: str  # the client as a reader knows it: "botocore 1.34.22 in /usr/lib/google-cloud-sdk/lib/third_party"
    answer: str  # one of ANSWERS
    reasons: tuple[Reason, ...]
    findings: tuple[str, ...] = ()  # the ids of the findings that are its evidence
    host: Optional[str] = None  # set in a report merged from several hosts' reports

    def __post_init__(self) -> None:
        if self.answer not in ANSWERS:
            raise ValueError(f"a verdict answers one of {', '.join(ANSWERS)}, not {self.answer!r}")
        unknown = [r.kind for r in self.reasons if r.kind not in REASON_KINDS]
        if unknown:
            raise ValueError(f"a verdict's reasons are of the kinds {', '.join(REASON_KINDS)}, not {', '.join(unknown)}")

    def chain(self) -> str:
        """The reasons on one line: "rule: … · store: …"."""
        return " · ".join(f"{r.kind}: {r.text}" for r in self.reasons)
