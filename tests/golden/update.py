"""Record the golden reports again: python tests/golden/update.py [NAME...]

Only when an answer changes on purpose; the commit says why (see tests/test_golden.py)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from golden_scans import GOLDEN, NAMES, generate, golden_path  # noqa: E402


def main(names: list[str]) -> int:
    unknown = sorted(set(names) - set(NAMES))
    if unknown:
        print(f"unknown golden scans: {', '.join(unknown)}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="auditor-golden-") as folder:
        made = generate(Path(folder) / "work", names or None)
    changed = 0
    for name, text in made.items():
        path = golden_path(name)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed += 1
            print(f"recorded {path.name}")
    if not names:
        for stale in sorted({p.stem for p in GOLDEN.glob("*.json")} - set(NAMES)):
            golden_path(stale).unlink()
            print(f"removed {stale}.json (no longer a golden scan)")
    print(f"{len(made)} golden reports, {changed} changed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
