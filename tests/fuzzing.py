"""Shared settings of the property tests (tests/test_fuzz_*.py).

CI runs a bounded, reproducible number of examples per parser; a long campaign raises the count:

    AUDITOR_FUZZ_EXAMPLES=20000 pytest tests/test_fuzz_*.py

Examples are derived from a fixed seed unless AUDITOR_FUZZ_RANDOM=1, so a CI failure replays as it failed.
"""

import os

from hypothesis import HealthCheck, settings

EXAMPLES = int(os.environ.get("AUDITOR_FUZZ_EXAMPLES", "200"))

fuzz = settings(
    max_examples=EXAMPLES,
    deadline=None,  # a shared CI machine has slow moments; the bound that matters is each parser's own cap
    derandomize=os.environ.get("AUDITOR_FUZZ_RANDOM") != "1",
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
                           HealthCheck.function_scoped_fixture],
)


def containers(data):
    """Every dict and list in a JSON document, the document first: the places an edit of a saved report can be."""
    found, pending = [], [data]
    while pending:
        node = pending.pop()
        found.append(node)
        pending += [v for v in (node.values() if isinstance(node, dict) else node) if isinstance(v, (dict, list))]
    return found
