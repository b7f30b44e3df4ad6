"""What `auditor fix` prints: the unified diff of every file it edits (or would), then each change with its
status and reason, the commands for the user to run, and the lines of code to change by hand; or the changes as
a JSON list."""

from __future__ import annotations

import difflib
import json

from auditor.fix.changes import APPLIED, COMMAND, FAILED, MANUAL, PENDING, REFUSED
from auditor.fix.run import FixResult
from auditor.report.escape import terminal, visible

HEADINGS = ((PENDING, "would change (dry run; --apply writes)"), (APPLIED, "changed"),
            (COMMAND, "commands to run (auditor runs none of them)"), (MANUAL, "to change by hand"),
            (REFUSED, "not changed"), (FAILED, "failed"))


def fix_json(result: FixResult) -> str:
    from auditor.redact import redact

    changes = [{key: redact(value) if isinstance(value, str) and key != "command" else value
                for key, value in change.to_json().items()} for change in result.plan.changes]
    return json.dumps(changes, indent=2, ensure_ascii=False) + "\n"


def fix_text(result: FixResult, applied: bool, backup_suffix: str) -> str:
    out: list[str] = []
    for edit in result.plan.edits.values():
        if not any(change.status in (PENDING, APPLIED) for change in edit.changes):
            continue
        old = edit.original.decode("utf-8", "surrogateescape").splitlines(keepends=True)
        new = edit.content().decode("utf-8", "surrogateescape").splitlines(keepends=True)
        for line in difflib.unified_diff(old, new, edit.shown, edit.shown):
            out.append(terminal(line.rstrip("\r\n")))
    for status, heading in HEADINGS:
        changes = [change for change in result.plan.changes if change.status == status]
        if not changes:
            continue
        out.append(f"{heading}:")
        for change in changes:
            where = f"{change.file}:{change.line}" if change.line else change.file
            out.append(f"  {terminal(where)}: {terminal(change.reason)}")
            if change.command:
                # Not redacted: auditor wrote it, and its -storepass:env names a variable, not a password.
                out.append(f"    {visible(change.command)}")
    out.append(_summary(result, applied, backup_suffix))
    return "\n".join(out) + "\n"


def _summary(result: FixResult, applied: bool, backup_suffix: str) -> str:
    from auditor.report.common import plural

    counts = {status: sum(1 for c in result.plan.changes if c.status == status) for status, _ in HEADINGS}
    if not result.plan.changes:
        said = "nothing to fix"
    else:
        parts = [f"{plural(counts[PENDING], 'change')} pending" if counts[PENDING] else "",
                 f"{plural(counts[APPLIED], 'change')} applied (each file's original kept as FILE{backup_suffix})"
                 if counts[APPLIED] else "",
                 f"{plural(counts[COMMAND], 'command')} to run" if counts[COMMAND] else "",
                 f"{plural(counts[MANUAL], 'line')} to change by hand" if counts[MANUAL] else "",
                 f"{counts[REFUSED]} not changed" if counts[REFUSED] else "",
                 f"{counts[FAILED]} failed" if counts[FAILED] else ""]
        said = ", ".join(part for part in parts if part)
        if counts[PENDING] and not applied:
            said += " (dry run: nothing was written)"
    if result.not_scanned:
        said += f"; {plural(result.not_scanned, 'part')} of the targets could not be scanned (see auditor scan)"
    return f"result: {said}"
