"""A folder of the target swapped for a symlink to elsewhere while the scan runs: what the scan checked is what it
reads, so the swap is an error entry and nothing outside the target is read.

The swap is real and concurrent: a thread watches the folder with inotify and, the moment the scan has listed it
(the folder is closed after reading), renames it away and puts a symlink to an outside folder in its place. The
scan reads the requirements file it listed there only later, after the rest of the walk.
"""

from __future__ import annotations

import ctypes
import json
import os
import select
import subprocess
import sys
import threading

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux's")

CANARY = "0.21.0+canary7f3e"  # the outside file's pin: it must never reach the report
IN_CLOSE_NOWRITE = 0x10
FILLER_FOLDERS = 3000  # walked after the swapped folder: time for the swap to land before the file is read
ATTEMPTS = 3


class SwapWhenListed(threading.Thread):
    """Replace `folder` by a symlink to `outside` as soon as something closes it after reading (a listing)."""

    def __init__(self, folder, outside):
        super().__init__(daemon=True)
        self.folder, self.outside = str(folder), str(outside)
        libc = ctypes.CDLL(None, use_errno=True)
        self.watch = libc.inotify_init1(os.O_CLOEXEC)
        if self.watch < 0 or libc.inotify_add_watch(self.watch, self.folder.encode(), IN_CLOSE_NOWRITE) < 0:
            pytest.fail(f"inotify: {os.strerror(ctypes.get_errno())}")
        self.swapped = threading.Event()
        self.stop = threading.Event()

    def run(self):
        try:
            while not self.stop.is_set():
                if select.select([self.watch], [], [], 0.05)[0]:
                    os.read(self.watch, 4096)
                    os.rename(self.folder, self.folder + ".moved")
                    os.symlink(self.outside, self.folder)
                    self.swapped.set()
                    return
        finally:
            os.close(self.watch)


def layout(tmp_path, kind):
    """The outside folder with the canary pin, and a target whose folder `a` holds a benign pin, followed by
    filler folders. Returns (the folder to swap, the outside folder, the scan's arguments)."""
    outside = tmp_path / "outside"
    outside.mkdir(parents=True)
    (outside / "requirements.txt").write_text(f"botocore=={CANARY}\n")
    top = tmp_path / "target"
    app = top / "app" if kind == "image" else top  # an image's applications are searched in /app
    (app / "a").mkdir(parents=True)
    (app / "a" / "requirements.txt").write_text("botocore==1.31.0\n")
    for number in range(FILLER_FOLDERS):
        (app / f"b{number:05}").mkdir()
    if kind == "image":
        (top / "etc").mkdir()
        (top / "etc" / "os-release").write_text('NAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n')
    return app / "a", outside, (["--root", top] if kind == "image" else [top])


@pytest.mark.parametrize("kind", ["tree", "image"])
def test_a_folder_swapped_for_a_link_during_the_scan_is_an_error_never_an_outside_read(tmp_path, kind):
    for attempt in range(ATTEMPTS):
        folder, outside, arguments = layout(tmp_path / str(attempt), kind)
        swapper = SwapWhenListed(folder, outside)
        swapper.start()
        done = subprocess.run([sys.executable, "-m", "auditor", "scan", "-q", "--format", "json", *map(str, arguments)],
                              capture_output=True, text=True, timeout=300)
        swapper.stop.set()
        swapper.join()
        if swapper.swapped.is_set() and (folder.parent / "a.moved").exists():
            break  # the swap landed while the scan ran; an attempt where the scan won the race says nothing
    else:
        pytest.fail(f"the folder was not swapped during any of {ATTEMPTS} scans")
    assert done.returncode in (0, 1), done.stderr
    assert "canary" not in done.stdout + done.stderr, "a file outside the target was read"
    report = json.loads(done.stdout)
    swapped = [e for e in report["errors"] if "became a symlink while the scan read it" in e["message"]]
    assert swapped, f"the scan does not say what changed under it: {report['errors']}"
