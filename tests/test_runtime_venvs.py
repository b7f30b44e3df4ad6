"""--runtime on the virtualenv layouts people have: the interpreter runs with -E -s -S, so a venv whose own
site.py is what puts the base standard library on sys.path (virtualenv before 20; virtualenv 20 and later
for Python 2) gets those folders from the files that name them (auditor.collect.python.venv_base)."""

import os
import shutil
import ssl
import subprocess
import sys
from pathlib import Path

from conftest import scan_json

VERSION = f"python{sys.version_info[0]}.{sys.version_info[1]}"
# The modules virtualenv 16.7.12 (the last before 20) links into a Python 3 venv's lib/pythonX.Y (REQUIRED_MODULES
# for 3.6 and later, those this Python has as files), and the folders it links (REQUIRED_FILES).
CLASSIC_MODULES = ("os", "posixpath", "ntpath", "genericpath", "fnmatch", "locale", "encodings", "codecs", "stat", "types",
                   "re", "sre_parse", "sre_constants", "sre_compile", "warnings", "linecache", "abc", "io", "_weakrefset",
                   "copyreg", "tempfile", "random", "__future__", "collections", "keyword", "tarfile", "shutil", "struct",
                   "copy", "tokenize", "token", "functools", "heapq", "bisect", "weakref", "reprlib", "base64", "hashlib",
                   "hmac", "imp", "importlib", "rlcompleter", "operator", "_collections_abc", "enum")


def base_stdlib() -> Path:
    """The standard library of the interpreter this venv of the tests was made from."""
    return Path(sys.base_prefix) / "lib" / VERSION


def classic_virtualenv(venv: Path, orig_prefix: str = sys.base_prefix) -> Path:
    """This machine's Python laid out as virtualenv < 20 lays out a venv: the interpreter copied into bin/, the os.py
    landmark and the bootstrap modules linked into lib/pythonX.Y with lib-dynload, orig-prefix.txt naming the base
    installation (written without a newline, as virtualenv writes it), and no pyvenv.cfg."""
    lib = venv / "lib" / VERSION
    (lib / "site-packages").mkdir(parents=True)
    stdlib = base_stdlib()
    for name in CLASSIC_MODULES:
        for source in (stdlib / f"{name}.py", stdlib / name):
            if source.exists():
                (lib / source.name).symlink_to(source)
    (lib / "lib-dynload").symlink_to(next(p for p in sys.path if p.endswith("lib-dynload")))
    (lib / "orig-prefix.txt").write_text(orig_prefix)
    (venv / "bin").mkdir()
    python = venv / "bin" / VERSION
    shutil.copy2(os.path.realpath(getattr(sys, "_base_executable", sys.executable)), python)
    (venv / "bin" / "python").symlink_to(VERSION)
    return python


def isolated(python: Path, code: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(python), "-E", "-s", "-S", "-c", code], capture_output=True, text=True, cwd=python.parent,
                          env={"PATH": os.defpath, "LC_ALL": "C"})


def runtime_facts(report):
    return [c for c in report["components"] if c["kind"] == "openssl" and "--runtime" in c["source"]]


def test_a_classic_virtualenv_interpreter_is_read_with_its_base_standard_library(tmp_path):
    python = classic_virtualenv(tmp_path / "venv")
    # The layout is real: the copied interpreter takes the venv as its prefix, and with -S its standard library
    # ends with the few modules linked into the venv: neither json nor ssl can be imported.
    prefix = isolated(python, "import sys; print(sys.prefix)")
    assert prefix.stdout.strip() == str(tmp_path / "venv")
    for module in ("json", "ssl"):
        failed = isolated(python, f"import {module}")
        assert failed.returncode != 0 and f"No module named '{module}'" in failed.stderr
    report = scan_json(tmp_path / "venv", "--runtime")
    (fact,) = runtime_facts(report)
    assert fact["location"] == str(python)
    assert fact["details"]["version_text"] == ssl.OPENSSL_VERSION
    assert fact["details"]["python_version"] == ".".join(map(str, sys.version_info[:3]))
    assert (fact["details"]["sni"], fact["details"]["tls1_2"]) == (True, True)
    assert fact["details"]["base_stdlib"] == [str(base_stdlib()), f"{sys.base_prefix}/lib64/{VERSION}"]
    assert not [e for e in report["errors"] if e["location"] == str(python)]


def test_a_classic_virtualenv_whose_base_is_gone_is_an_error_not_a_python_without_tls(tmp_path):
    """The base installation it names was removed: ssl cannot be imported, and nothing is claimed about TLS."""
    python = classic_virtualenv(tmp_path / "venv", orig_prefix=str(tmp_path / "removed-python"))
    report = scan_json(tmp_path / "venv", "--runtime", "--pack", "tls12")
    assert runtime_facts(report) == []
    assert not [f for f in report["findings"] if f["rule"].startswith("tls12")]
    (error,) = [e["message"] for e in report["errors"] if e["location"] == str(python)]
    assert error.startswith(f"Python {sys.version.split()[0]} (with the base standard library {tmp_path}/removed-python/lib/")
    assert "could not import its ssl module (ModuleNotFoundError: No module named 'ssl'): its OpenSSL was not read" in error


def test_an_orig_prefix_that_is_not_one_absolute_folder_is_an_error_and_nothing_runs(tmp_path):
    python = classic_virtualenv(tmp_path / "venv", orig_prefix="../python\n-c")
    marker = tmp_path / "ran"
    python.unlink()
    python.write_text(f"#!/bin/sh\ntouch {marker}\n")
    python.chmod(0o755)
    report = scan_json(tmp_path / "venv", "--runtime")
    orig = tmp_path / "venv" / "lib" / VERSION / "orig-prefix.txt"
    assert [e["message"] for e in report["errors"] if e["location"] == str(orig)] == [
        "does not name one absolute folder ('../python\\n-c'): the interpreter's standard library cannot be found, so it was not run"]
    assert runtime_facts(report) == [] and not marker.exists()


def test_virtualenv_20_for_python_2_gets_its_base_from_pyvenv_cfg(tmp_path):
    """virtualenv 20 writes base-prefix and base-exec-prefix, which its Python 2 site.py reads (Python 2 ignores
    pyvenv.cfg): the folders are handed to the interpreter (a stand-in that prints its arguments)."""
    venv = tmp_path / "venv"
    (venv / "lib" / "python2.7" / "site-packages").mkdir(parents=True)
    (venv / "lib" / "python2.7" / "os.py").write_text("")
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\nimplementation = CPython\nversion_info = 2.7.18.final.0\n"
                                     "virtualenv = 20.21.1\ninclude-system-site-packages = false\n"
                                     "base-prefix = /usr\nbase-exec-prefix = /usr/local\nbase-executable = /usr/bin/python2.7\n")
    args = tmp_path / "args"
    python = venv / "bin" / "python2.7"
    python.parent.mkdir()
    python.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {args}\n'
                      "printf 'python=2.7.18\\nssl=ok\\nopenssl=OpenSSL 1.1.1n  15 Mar 2022\\nsni=1\\ntls1_2=1\\n'\n")
    python.chmod(0o755)
    (venv / "bin" / "python").symlink_to("python2.7")
    (fact,) = runtime_facts(scan_json(venv, "--runtime"))
    assert (fact["version"], fact["details"]["python_version"]) == ("1.1.1n", "2.7.18")
    assert args.read_text().splitlines()[-4:] == ["/usr/lib/python2.7", "/usr/lib64/python2.7",
                                                  "/usr/local/lib/python2.7", "/usr/local/lib64/python2.7"]


def test_venvs_that_find_their_own_standard_library_get_nothing_added(tmp_path):
    """python -m venv and virtualenv 20 (Python 3): the interpreter reads pyvenv.cfg itself."""
    from virtualenv import cli_run

    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "venv")], check=True)
    cli_run([str(tmp_path / "virtualenv"), "--no-pip", "--no-setuptools", "--no-wheel", "--no-periodic-update", "-q"])
    for venv in (tmp_path / "venv", tmp_path / "virtualenv"):
        (fact,) = runtime_facts(scan_json(venv, "--runtime"))
        assert fact["details"]["version_text"] == ssl.OPENSSL_VERSION and "base_stdlib" not in fact["details"]
