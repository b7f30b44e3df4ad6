"""Make docs/html-report.png, the picture of the HTML report in docs/reports.md, from the same realistic report the
browser test opens (tests/report_scenario.py), with the same headless Chromium helper (tests/browser.py).

    python docs/make_screenshot.py      # from a dev install: pip install -e '.[test]', and chromium on PATH
"""

import os
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from auditor.report.html import render  # noqa: E402
from browser import Browser, find_browser  # noqa: E402
from report_scenario import realistic_report  # noqa: E402


def main() -> int:
    executable = find_browser()
    if executable is None:
        print("no chromium on PATH (apt-get install chromium)", file=sys.stderr)
        return 2
    os.chdir(REPO)  # the report names the fixtures by paths relative to the checkout
    os.environ.pop("AUDITOR_RULES_DIR", None)
    work = Path(tempfile.gettempdir()) / "auditor-readme"  # a stable name: it shows in the picture
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    page = work / "report.html"
    page.write_text(render(realistic_report(work)), encoding="utf-8")
    with Browser(executable) as browser:
        browser.open(page.as_uri(), width=1200, height=1400)
        if browser.problems():
            print("\n".join(browser.problems()), file=sys.stderr)
            return 1
        (REPO / "docs" / "html-report.png").write_bytes(browser.screenshot())
    shutil.rmtree(work)
    print("wrote docs/html-report.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
