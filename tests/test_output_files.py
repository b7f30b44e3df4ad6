"""Files the tool writes (reports, comparisons, merges, signatures, the release-date table): never through a
name another user could have planted, an existing file's mode kept, and no temporary file left behind by an
error, a full disk, SIGINT or SIGTERM; an interrupted command ends with one line and the shell's exit code."""

import os
import pty
import resource
import select
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ENVS, run
from auditor.checks import refresh
from auditor.output import atomic_output, write_atomically

OLD = ENVS / "py3-old-botocore"
NEW = ENVS / "py3-venv"
QUIET_CHILD = dict(PYTHONDONTWRITEBYTECODE="1")  # a child under a file size limit writes nothing but its output


def _saved(tmp_path, name, target):
    path = tmp_path / name
    assert run("scan", "-q", "--format", "json", "-o", path, target).code in (0, 1)
    return path


def _plant(folder: Path, name: str, victim: Path) -> list[Path]:
    """Links at every name the old writers used for `name`'s temporary file (this process's pid, as in-process
    runs have it, and the table's fixed `.tmp`)."""
    links = [folder / f"{name}.{os.getpid()}.tmp", folder / f"{name}.tmp"]
    for link in links:
        link.symlink_to(victim)
    return links


def _commands(tmp_path):
    """(argv, output file) for each command that writes a file named on its command line."""
    before, after = _saved(tmp_path, "before.json", NEW), _saved(tmp_path, "after.json", OLD)
    out = tmp_path / "out"
    out.mkdir()
    return [
        (["scan", "-q", "--format", "json", OLD, "-o"], out / "scan.json"),
        (["truststore", "-q", ENVS.parent / "keystores" / "truststore.jks", "-o"], out / "stores.txt"),
        (["report", "render", after, "--format", "markdown", "-o"], out / "render.md"),
        (["report", "diff", before, after, "-o"], out / "diff.txt"),
        (["report", "merge", before, after, "-o"], out / "merged.json"),
        (["report", "merge", before, after, "--format", "csv", "-o"], out / "merged.csv"),
    ]


def test_a_link_planted_at_an_old_temporary_name_is_not_followed(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    for argv, output in _commands(tmp_path):
        links = _plant(output.parent, output.name, victim)
        result = run(*argv, output)
        assert result.code in (0, 1), (argv, result.err)
        assert victim.read_text() == "precious\n", argv
        assert not output.is_symlink() and output.stat().st_size > 0
        assert all(link.is_symlink() and link.resolve() == victim for link in links)
        written = [path for path in output.parent.iterdir() if output.name in path.name]
        assert sorted(written) == sorted([*links, output]), "a temporary file left behind"
        for link in links:
            link.unlink()


def test_a_signature_written_over_a_link_replaces_the_link_not_its_target(tmp_path):
    saved = _saved(tmp_path, "scan.json", OLD)
    key, pub = tmp_path / "audit.key", tmp_path / "audit.pub"
    assert run("report", "keygen", "--private", key, "--public", pub).code == 0
    victim, signature = tmp_path / "victim", tmp_path / "scan.json.sig"
    victim.write_text("precious\n")
    signature.symlink_to(victim)
    assert run("report", "sign", saved, "--key", key).code == 0
    assert victim.read_text() == "precious\n"
    assert not signature.is_symlink() and len(signature.read_bytes()) == 64
    assert run("report", "verify", saved, "--signature", signature, "--public-key", pub).code == 0


def test_the_release_date_table_is_written_the_same_way(tmp_path, monkeypatch):
    pypi = {"releases": {"1.0.0": [{"upload_time_iso_8601": "2013-05-13T18:36:56.201455Z"}], "1.0.1": []}}
    monkeypatch.setattr(refresh, "fetch", lambda name, timeout: pypi)  # the network is not what is tested here
    victim, table = tmp_path / "victim", tmp_path / "release-dates.json"
    victim.write_text("precious\n")
    links = _plant(tmp_path, table.name, victim)
    result = run("rules", "refresh", "--output", table)
    assert result.code == 0, result.err
    assert victim.read_text() == "precious\n" and '"1.0.0": "2013-05-13T18:36:56Z"' in table.read_text()
    assert sorted(tmp_path.iterdir()) == sorted([*links, table, victim])


def test_an_existing_files_mode_is_kept_and_a_new_file_follows_the_umask(tmp_path):
    private = tmp_path / "private.json"
    private.write_text("{}")
    private.chmod(0o600)
    assert run("scan", "-q", "--format", "json", OLD, "-o", private).code == 1
    assert stat.S_IMODE(private.stat().st_mode) == 0o600 and private.stat().st_size > 100
    shared = tmp_path / "shared.txt"
    shared.write_text("")
    shared.chmod(0o664)
    assert run("scan", "-q", OLD, "-o", shared).code == 1
    assert stat.S_IMODE(shared.stat().st_mode) == 0o664
    previous = os.umask(0o027)
    try:
        assert run("scan", "-q", OLD, "-o", tmp_path / "new.txt").code == 1
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == 0o640


def test_an_error_while_writing_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    report = tmp_path / "report.json"
    report.write_text("old\n")
    with pytest.raises(ZeroDivisionError):
        with atomic_output(str(report)) as handle:
            handle.write("half of the new")
            1 / 0  # noqa: B018 (fails in the middle of the write)
    assert report.read_text() == "old\n" and list(tmp_path.iterdir()) == [report]
    write_atomically(str(report), b"new\n")
    assert report.read_text() == "new\n" and list(tmp_path.iterdir()) == [report]


def _file_size_limit(limit: int):
    def apply():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_a_full_disk_is_an_error_with_the_old_report_kept_and_no_temporary(tmp_path):
    """RLIMIT_FSIZE stands in for a full disk: write() fails with EFBIG as it fails with ENOSPC, for root too."""
    size = len(run("scan", "-q", "--format", "json", OLD).out)
    limit = 4096
    assert size > 2 * limit
    out = tmp_path / "out"
    out.mkdir()
    report = out / "report.json"
    report.write_text("the last complete report\n")
    child = subprocess.run([sys.executable, "-m", "auditor", "scan", "-q", "--format", "json", str(OLD),
                            "-o", str(report)], capture_output=True, text=True, timeout=120,
                           env={**os.environ, **QUIET_CHILD}, preexec_fn=_file_size_limit(limit))
    assert child.returncode == 2 and f"cannot write {report}: File too large" in child.stderr
    assert "Traceback" not in child.stderr
    assert report.read_text() == "the last complete report\n" and list(out.iterdir()) == [report]


WRITER = """
import sys, time
from auditor.output import atomic_output, terminate_raises

with terminate_raises(), atomic_output(sys.argv[1]) as handle:
    handle.write("x" * 100_000)
    handle.flush()
    print("writing", flush=True)
    time.sleep(60)
"""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_while_writing_leaves_the_old_file_and_no_temporary(tmp_path, signum):
    report = tmp_path / "report.json"
    report.write_text("old\n")
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(report)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env={**os.environ, **QUIET_CHILD})
    assert child.stdout.readline() == "writing\n"
    assert len(list(tmp_path.iterdir())) == 2  # the temporary file, beside the report
    child.send_signal(signum)
    _, stderr = child.communicate(timeout=30)
    assert ("KeyboardInterrupt" if signum == signal.SIGINT else "Terminated") in stderr  # raised: `finally`s ran
    assert report.read_text() == "old\n" and list(tmp_path.iterdir()) == [report]


def _big_tree(root: Path, folders: int = 2000) -> Path:
    """Projects enough for a scan of some seconds; one requirements file hard-linked everywhere (cheap to make)."""
    pins = root / "requirements.txt"
    pins.write_text("botocore==1.10.0\nrequests==2.31.0\n")
    tree = root / "tree"
    for n in range(folders):
        project = tree / f"team{n // 50}" / f"service{n % 50}"
        project.mkdir(parents=True)
        os.link(pins, project / "requirements.txt")
    return tree


def _read_until(fd: int, wanted: bytes, seconds: float) -> bytes:
    seen, end = b"", time.monotonic() + seconds
    while wanted not in seen and time.monotonic() < end:
        if select.select([fd], [], [], 0.1)[0]:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the terminal's other side closed: the child ended
                break
            if not chunk:
                break
            seen += chunk
    return seen


@pytest.mark.parametrize("signum, code, line", [(signal.SIGINT, 130, b"auditor: interrupted"),
                                                (signal.SIGTERM, 143, b"auditor: terminated")])
def test_a_scan_interrupted_midway_ends_with_one_line_and_the_shells_exit_code(tmp_path, signum, code, line):
    tree = _big_tree(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    terminal, child_side = pty.openpty()  # standard error a terminal, as at a prompt: the progress shows the scan runs
    child = subprocess.Popen([sys.executable, "-m", "auditor", "scan", "--format", "json", str(tree),
                              "-o", str(out / "report.json")], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=child_side, env={**os.environ, **QUIET_CHILD})
    os.close(child_side)
    try:
        assert b"scanning" in _read_until(terminal, b"dirs", 60)
        time.sleep(0.3)
        assert child.poll() is None, "the scan ended before the signal: make the tree bigger"
        child.send_signal(signum)
        stdout, _ = child.communicate(timeout=60)
        stderr = _read_until(terminal, b"\x00", 5)
    finally:
        child.kill()
        os.close(terminal)
    assert child.returncode == code
    assert b"Traceback" not in stderr and stderr.count(b"auditor:") == 1 and line in stderr
    assert stdout == b"" and list(out.iterdir()) == []


def test_a_pipe_or_device_is_written_in_place_never_replaced_by_a_file(tmp_path):
    import threading

    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(open(fifo, "rb").read()), daemon=True)
    reader.start()
    result = run("scan", "-q", "--format", "json", OLD, "-o", fifo)
    if reader.is_alive():  # nothing opened the FIFO: unblock the reader
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    reader.join(10)
    assert result.code == 1 and stat.S_ISFIFO(fifo.lstat().st_mode)
    assert received and b'"botocore"' in received[0]  # as -o /dev/stdout is; /dev/null is not risked here
