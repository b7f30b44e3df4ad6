"""Start-up: `auditor --version` against a bare `python -c pass` (target: within 2x)."""

from _common import AUDITOR, PYTHON, best_of, report


def main(runs: int = 15) -> None:
    bare = best_of([PYTHON, "-c", "pass"], runs)
    version = best_of(AUDITOR + ["--version"], runs)
    report("auditor --version", version, "python -c pass", bare, "<= 2.0x")


if __name__ == "__main__":
    main()
