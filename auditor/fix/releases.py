"""Which release a flagged pin is raised to (--to): the first release after the cutoff, the newest known, or the
one the user names; from the release-date table, or from the package index with --online."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from packaging.version import Version

    from auditor.checks.rules import ReleaseDates
    from auditor.fix.index import PackageIndex

FIRST_SAFE, LATEST = "first-safe", "latest"


class Refusal(Exception):
    """The change cannot be made safely; the message says why, for the user."""


def target_release(dates: ReleaseDates, name: str, cutoff: str, to: str, index: PackageIndex | None) -> tuple[str, str]:
    """(version, why it was chosen) for package `name` flagged for a release before `cutoff` (YYYY-MM-DD)."""
    from packaging.version import InvalidVersion, Version

    known = _final_releases(dates, name)
    if to == FIRST_SAFE:
        last = dates.last_before(name, cutoff)
        after = [(pv, v, d) for pv, v, d in known if d >= cutoff and (last is None or pv > last[0])]
        if not after:
            raise Refusal(f"the release-date table knows no {name} release after {cutoff}")
        pv, version, date = min(after)
        return version, f"the first {name} release after the cutoff, uploaded {date[:10]}"
    if to == LATEST:
        if index is not None:
            from auditor.fix.index import IndexFailure

            try:
                return index.latest(name), f"the newest {name} release on {index.url}"
            except IndexFailure as exc:
                raise Refusal(f"the newest release could not be had: {exc}") from None
        if not known:
            raise Refusal(f"the release-date table knows no {name} release")
        pv, version, date = max(known)
        return version, f"the newest {name} release the release-date table knows, uploaded {date[:10]}"
    try:
        Version(to)
    except InvalidVersion:
        raise Refusal(f"--to {to}: not a version") from None
    uploaded = dates.released(name, to)
    if uploaded is None and index is not None:
        uploaded = index.uploaded(name, to)
    if uploaded is None:
        raise Refusal(f"{name} {to} is not in the release-date table" + ("" if index else "; --online asks the index"))
    if uploaded < cutoff:
        raise Refusal(f"{name} {to} was uploaded on {uploaded[:10]}, before the {cutoff} cutoff")
    return to, f"asked for (--to), uploaded {uploaded[:10]}"


def _final_releases(dates: ReleaseDates, name: str) -> list[tuple[Version, str, str]]:
    from packaging.version import InvalidVersion, Version

    releases = []
    for version, date in dates.packages.get(name, {}).items():
        try:
            parsed = Version(version)
        except InvalidVersion:
            continue
        if not parsed.is_prerelease and not parsed.is_devrelease:
            releases.append((parsed, version, date))
    return releases
