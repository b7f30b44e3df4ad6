"""Reading the machine's real Java cacerts and checking it for the ATS anchors, against
'keytool -list -cacerts' (target: at least 5x faster), in the same run (best of 5):
- in process: read_store + check_store, as `auditor scan` does for each JDK;
- as whole commands: `python -m auditor truststore <cacerts>` against keytool, both paying their start-up."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess

from _common import AUDITOR, PYTHON, best_in_process, best_of, best_of_each, report

from auditor.trust.anchors import check_store, load_anchors
from auditor.trust.formats import read_store
from auditor.fs import View


STDLIB_IMPORTS = "import hashlib, argparse, json, re"
# Runs the command in process (its output discarded) and prints the auditor modules it imported.
IMPORTED = """\
import contextlib, io, sys
from auditor.cli.main import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    main(sys.argv[1:])
print(" ".join(sorted(name for name in sys.modules if name.startswith("auditor"))))
"""


def java_cacerts() -> str | None:
    candidates = ["/etc/ssl/certs/java/cacerts", *sorted(glob.glob("/usr/lib/jvm/*/lib/security/cacerts"))]
    return next((p for p in candidates if os.path.isfile(p)), None)




def main() -> None:
    cacerts, keytool = java_cacerts(), shutil.which("keytool")
    if cacerts is None or keytool is None:
        print("java cacerts: skipped (no JDK cacerts or keytool on this machine)")
        return
    anchors, view = load_anchors(), View("/", display_top="/")

    def in_process():
        store = read_store(view, cacerts, "changeit")
        assert check_store(store.certificates, anchors, "2026-11-28").anchors

    keytool_list = [keytool, "-list", "-cacerts", "-storepass", "changeit"]
    baseline = best_of(keytool_list, ok_codes=(0,))
    size = len(read_store(view, cacerts).certificates)
    ratio = report(f"java cacerts ({cacerts}, {size} certificates), read and checked in process", best_in_process(in_process),
                   "keytool -list -cacerts", baseline, ">= 5x faster, i.e. <= 0.2x")
    print(f"  in process: {1 / ratio:.0f}x faster than keytool")
    whole = best_of([*AUDITOR, "truststore", cacerts, "--storepass", "changeit", "-q", "--format", "json"])
    ratio = report("  the same as a whole command: auditor truststore --storepass changeit", whole,
                   "keytool -list -cacerts", baseline, "<= 0.2x")
    print(f"  as a whole command: {1 / ratio:.1f}x faster than keytool")
    # Where the whole command's time goes: the interpreter's start, then the modules the command imports (each auditor
    # module it ends up with, imported alone, with all that they import), then its work (arguments, packs, the store
    # read and checked, the report rendered and written): the difference.
    command = ["truststore", cacerts, "--storepass", "changeit", "-q", "--format", "json"]
    modules = subprocess.run([PYTHON, "-c", IMPORTED, *command], capture_output=True, text=True, check=True).stdout.split()
    bare, imports, run = best_of_each([[PYTHON, "-c", "pass"], [PYTHON, "-c", "import " + ", ".join(modules)],
                                       [*AUDITOR, *command]], runs=7)
    print(f"  where its {run * 1000:.1f} ms go (measured again, in turn with the two below): the interpreter's start "
          f"{bare * 1000:.1f} ms, importing its {len(modules)} auditor modules {(imports - bare) * 1000:.1f} ms, its work "
          f"{(run - imports) * 1000:.1f} ms (start-up and imports {imports / run:.0%})")
    # What no Python command that parses arguments, reads JSON and hashes can go below: the interpreter and the
    # largest standard modules this one imports (it imports neither dataclasses nor typing: auditor.records). keytool's time divided by this is the best whole-command ratio a Python
    # tool built like this one could show on this machine.
    floor = best_of([PYTHON, "-c", STDLIB_IMPORTS])
    report("  the same against the floor of a Python command (interpreter + the standard modules it imports)",
           whole, f"python -c '{STDLIB_IMPORTS}'", floor, "reported")
    print(f"  keytool / that floor: {baseline / floor:.1f}x (the most any Python command could show here)")


if __name__ == "__main__":
    main()
