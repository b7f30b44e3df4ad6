"""ReleaseDates.matching: the releases a range admits, as `packaging` answers over the whole table, asked of only the
releases between the range's bounds (2,000 distinct ranges in a requirements file took 21 s)."""

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from auditor.checks.rules import ReleaseDates

DATES = ReleaseDates.load()
# Pre-releases, post-releases, dev releases, local versions, an epoch, two spellings of one release, shared dates,
# and a gap in which only a pre-release lies (2.0rc1: a range that admits it alone).
SYNTHETIC = ReleaseDates({"pkg": {
    "0.9": "2012-01-01T00:00:00", "1.0.dev1": "2012-06-01T00:00:00", "1.0a1": "2012-07-01T00:00:00",
    "1.0": "2013-01-01T00:00:00", "1.0.0": "2013-01-01T00:00:00", "1.0+ubuntu1": "2013-01-02T00:00:00",
    "1.0.post1": "2013-02-01T00:00:00", "1.0.post1+local": "2013-02-01T00:00:00", "1.1": "2013-05-01T00:00:00",
    "1.1.1rc1": "2013-06-01T00:00:00", "1.1.1": "2013-06-02T00:00:00", "1.2": "2014-01-01T00:00:00",
    "2.0rc1": "2015-01-01T00:00:00", "3.0": "2016-01-01T00:00:00", "1!0.5": "2017-01-01T00:00:00",
    "not a version": "2018-01-01T00:00:00",
}})
SPECIFIERS = [
    "", ">=0", ">=1.0", ">1.0", ">=1.0,<1.2", "<1.0", "<=1.0", "<=1.0.0", "==1.0", "==1.0.0", "==1.0+ubuntu1", "==1.0.*",
    "==1.*", "!=1.0", "!=1.0.*", "~=1.0", "~=1.1.0", "===1.0", ">1.2,<3.0", ">=2.0rc1", ">=1.1.1rc1,<1.1.1",
    ">1.9,<2.0", "<1.0a1", ">=1!0", "<1!0", ">=1.0.post1", "<=1.0.post1", ">1.0.post1", ">=1.0.dev0", "<1.1,>=0.9,!=1.0",
    ">=5", "<0.1", "not a specifier", "==1.0,==1.1", ">=0.21,<0.22", ">=1.29.0,<1.30.0", ">0.21.0", "~=1.34.0",
    "<=1.0.8", ">=1.20.0rc1,<1.20.0", "==1.12.*", "!=1.29.5,>=1.29,<1.31", ">=1.0.0b1",
]


def reference(dates: ReleaseDates, name: str, specifier: str) -> list[tuple[str, str]]:
    """What matching answered before it was bounded: `packaging` asked of every release, in the table's order."""
    releases = [(Version(v), v, d) for v, d in dates.packages.get(name, {}).items() if _valid(v)]
    try:
        allowed = set(SpecifierSet(specifier).filter([pv for pv, _, _ in releases]))
    except ValueError:
        return []
    return sorted(((v, d) for pv, v, d in releases if pv in allowed), key=lambda item: item[1])


def _valid(text: str) -> bool:
    try:
        Version(text)
        return True
    except ValueError:
        return False


@pytest.mark.parametrize("specifier", SPECIFIERS)
def test_matching_answers_as_packaging_over_the_whole_table(specifier):
    assert SYNTHETIC.matching("pkg", specifier) == reference(SYNTHETIC, "pkg", specifier)
    for name in ("botocore", "boto", "awscli"):
        assert DATES.matching(name, specifier) == reference(DATES, name, specifier), name


def test_matching_an_unknown_package_admits_nothing():
    assert DATES.matching("not-tracked", ">=1.0") == [] == DATES.matching("not-tracked", "")


def test_distinct_ranges_ask_packaging_of_the_releases_between_their_bounds(monkeypatch):
    """2,000 distinct narrow ranges: `packaging` was asked of every release of botocore for each (5 million asks);
    now of those between each range's bounds, and a repeated range not at all."""
    asked = []
    filter_ = SpecifierSet.filter

    def counting(self, iterable, *args, **kwargs):
        iterable = list(iterable)
        asked.append(len(iterable))
        return filter_(self, iterable, *args, **kwargs)

    monkeypatch.setattr(SpecifierSet, "filter", counting)
    dates = ReleaseDates(DATES.packages)  # a fresh table: nothing answered yet
    ranges = [f">=1.{minor}.{patch},<1.{minor}.{patch + 5}" for minor in range(20, 40) for patch in range(100)]
    answers = [dates.matching("botocore", r) for r in ranges + ranges]
    assert len(asked) == len(ranges) == 2_000
    assert sum(asked) < 2_000 * 60, f"{sum(asked):,} releases asked about"
    assert answers[:2_000] == answers[2_000:]
    assert answers[ranges.index(">=1.29.0,<1.29.5")] == reference(DATES, "botocore", ">=1.29.0,<1.29.5") != []
