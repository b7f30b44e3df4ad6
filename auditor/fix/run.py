"""`auditor fix` as a whole: the scan run in process on the targets, its findings turned into a plan
(auditor.fix.plan), and with --apply the plan written (auditor.fix.write)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from auditor.fix.changes import OPEN, PENDING, REFUSED
from auditor.fix.plan import FixRequest, Plan, plan_fixes
from auditor.fix.targets import Outside, fix_targets, locate
from auditor.fix.write import apply_edit
from auditor.records import mutable_record, record

if TYPE_CHECKING:
    from auditor.checks.rule_pack import Pack
    from auditor.collect.config.environ import Environ
    from auditor.fix.index import PackageIndex


@record
class FixOptions:
    targets: tuple[str, ...]
    packs: list[Pack]
    environ: Environ | None  # --env-file's; None: this process's, as for auditor scan
    to: str
    index: PackageIndex | None  # --online
    apply: bool
    backup_suffix: str


@mutable_record
class FixResult:
    plan: Plan
    not_scanned: int  # parts of the targets the scan could not read: what they hold is not fixed either

    def pending(self) -> bool:
        return any(change.status in OPEN for change in self.plan.changes)


def run_fix(options: FixOptions) -> FixResult:
    """NothingScanned (auditor.runs.scan) when no target could be read."""
    from auditor.checks.rules import release_dates_in_use
    from auditor.runs.scan import ScanOptions, run

    scan = ScanOptions(list(options.targets), options.packs, environ=options.environ)
    report = run(scan)
    dates, _ = release_dates_in_use()
    targets = fix_targets(list(options.targets))
    plan = plan_fixes(report, options.packs, targets, dates, FixRequest(options.to, options.index, scan.environment()))
    if options.apply:
        for edit in plan.edits.values():
            if not any(change.status == PENDING for change in edit.changes):
                continue
            try:
                view, real = locate(targets, edit.shown)
            except Outside as exc:
                real, why = "", str(exc)
            else:
                why = "" if real == edit.host else "the path now leads to another file"
            if why:  # swapped for a link, or removed, since the plan was made
                for change in edit.changes:
                    change.status, change.reason = REFUSED, f"{change.reason}; not written: {why}"
                continue
            apply_edit(view, edit, options.backup_suffix)
    return FixResult(plan, report.not_scanned())
