"""The atheris targets of fuzz/ (the long campaign) load through the runner and accept their own seeds,
empty input and noise, so a campaign never starts on a target that is already broken."""

import random

import pytest

from fuzz_targets import MODULES, fuzz_run

TARGETS = fuzz_run.all_targets(MODULES)


def test_every_area_has_targets_and_names_are_unique():
    assert set(MODULES) == {"config", "image", "platform", "python", "services", "trust"}
    assert len(TARGETS) == sum(len(module.TARGETS) for module in MODULES.values()) >= 50


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_a_target_accepts_its_seeds_empty_input_and_noise(name):
    area, inner = TARGETS[name]
    module = MODULES[area]
    target = module.TARGETS[inner]
    seeds = module.seeds().get(inner, []) if hasattr(module, "seeds") else []
    noise = random.Random(name).randbytes(512)
    for data in [b"", noise, *seeds[:3]]:
        target(data)  # raises AssertionError on an outcome the parser does not document


def test_every_target_has_real_inputs_to_start_from():
    """CI's smoke run gives each target a few seconds from its seeds: without them a target rarely gets past the
    first word its parser looks for (python-code reads nothing without AWS_CA_BUNDLE, or verify and boto)."""
    missing = [name for name, (area, inner) in sorted(TARGETS.items())
               if not (hasattr(MODULES[area], "seeds") and MODULES[area].seeds().get(inner))]
    assert missing == []
