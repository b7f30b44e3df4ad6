"""OpenSSL builds: the running interpreter's, a target interpreter's (only with --runtime), and
the version text inside libssl/libcrypto shared objects found on a system (read as bytes,
never loaded).

Every OpenSSL library carries its version text, e.g. "OpenSSL 1.0.1e-fips 11 Feb 2013" or
"OpenSSL 3.0.15 3 Sep 2024"; the same text is `ssl.OPENSSL_VERSION` in Python.
"""

from __future__ import annotations

import fnmatch
import os
import re
import ssl
import sys

from auditor.bounded_run import RunFailed, TimedOut, run_bounded
from auditor.collect import Collected
from auditor.collect.python.venv_base import base_stdlib
from auditor.facts.openssl import OpenSSLFacts, SslModule
from auditor.fs import FsError, View
from auditor.model import Component, ScanError

LIBRARY_CAP = 64 * 1024 * 1024
RUNTIME_TIMEOUT = 10.0
_VERSION_TEXT = re.compile(rb"OpenSSL (\d+\.\d+\.\d+[a-z]{0,2})([-\w.]*) +\d{1,2} [A-Z][a-z]{2} \d{4}")
_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)([a-z]{0,2})$")
LIBRARY_GLOBS = tuple(f"{directory}/{name}" for directory in (
    "/lib", "/lib64", "/usr/lib", "/usr/lib64", "/lib/*-linux-gnu", "/usr/lib/*-linux-gnu", "/usr/local/lib",
    "/usr/local/lib64", "/usr/local/ssl/lib", "/opt/homebrew/opt/openssl*/lib", "/usr/local/opt/openssl*/lib",
) for name in ("libssl.so*", "libcrypto.so*", "libssl*.dylib", "libcrypto*.dylib"))
# Wheels that bundle OpenSSL: auditwheel's <package>.libs/ (Linux) and delocate's .dylibs/ (macOS).
SITE_LIBRARY_GLOBS = ("*.libs/libssl*.so*", "*.libs/libcrypto*.so*", "*/.dylibs/libssl*.dylib", "*/.dylibs/libcrypto*.dylib")
# Runs under any Python from 2.6 on, with nothing but its built-in modules and ssl: what this interpreter's ssl
# module was built with, as key=value lines of printable ASCII. Its arguments are standard library folders
# of a base installation, added to sys.path first as a virtualenv's own site.py would (auditor.collect.python.venv_base).
_PROBE = """\
import sys
arches = [sys.platform, getattr(getattr(sys, "implementation", sys), "_multiarch", "")]
for stdlib in sys.argv[1:]:
    sys.path.extend([stdlib, stdlib + "/lib-dynload"] + [stdlib + "/plat-" + arch for arch in arches if arch])
def plain(value):
    return "".join([c for c in str(value) if " " <= c <= "~"])
facts = [("python", sys.version.split()[0])]
try:
    import ssl
except Exception:
    facts.append(("ssl", "%s: %s" % (sys.exc_info()[0].__name__, sys.exc_info()[1])))
else:
    tls12 = getattr(ssl, "HAS_TLSv1_2", None)
    if tls12 is None:
        tls12 = hasattr(ssl, "PROTOCOL_TLSv1_2")
    facts += [("ssl", "ok"), ("openssl", getattr(ssl, "OPENSSL_VERSION", "")),
              ("sni", int(bool(getattr(ssl, "HAS_SNI", False)))), ("tls1_2", int(bool(tls12)))]
for key, value in facts:
    sys.stdout.write("%s=%s\\n" % (key, plain(value)))
"""
_ANSWER_KEYS = ("python", "ssl", "openssl", "sni", "tls1_2")


def version_key(version: str) -> tuple | None:
    """'1.0.1e' -> (1, 0, 1, 'e'); letters order patch releases ('0.9.8zh' after '0.9.8z')."""
    match = _VERSION.match(version)
    if not match:
        return None
    major, minor, patch, letters = match.groups()
    return int(major), int(minor), int(patch), (len(letters), letters)


def running_openssl(target: str) -> Component:
    """The OpenSSL the running interpreter's ssl module links."""
    module = SslModule(sys.executable, sys.version.split()[0], ssl.HAS_SNI, ssl.HAS_TLSv1_2)
    return Component("openssl", "openssl", _version_of(ssl.OPENSSL_VERSION), sys.executable,
                     "ssl.OPENSSL_VERSION of the running interpreter", target,
                     facts=OpenSSLFacts(ssl.OPENSSL_VERSION, ssl_module=module))


def _version_of(text: str | None) -> str | None:
    match = _VERSION_TEXT.search(text.encode("utf-8", "replace")) if text else None
    return match.group(1).decode() if match else None


def library_openssl(view: View, patterns: tuple[str, ...], target: str, base: str | None = None) -> Collected:
    """A component per OpenSSL shared object matching the patterns (as the system names paths, or relative
    to the host directory `base`), read once per file. Each folder is listed once for all the names
    wanted in it (a system's library folder holds thousands of files)."""
    found, seen = Collected(), set()
    for path in _matching(view, patterns, base):
        try:
            real = view.resolve(path)
        except FsError:
            continue
        if real in seen or not view.is_file(path):
            continue
        seen.add(real)
        try:
            match = _VERSION_TEXT.search(view.read_bytes(path, LIBRARY_CAP))
        except FsError as exc:
            found.errors.append(ScanError(view.display(path), f"cannot read: {exc}"))
            continue
        if match is None:
            if "crypto" in os.path.basename(path):  # libssl 3.x carries no text of its own; libcrypto always does
                found.errors.append(ScanError(view.display(path), "no OpenSSL version text found in this library"))
            continue
        text = match.group(0).decode("ascii", "replace")
        found.components.append(Component("openssl", "openssl", match.group(1).decode(), view.display(path),
                                          "version text in the shared object", target,
                                          facts=OpenSSLFacts(text, library=os.path.basename(path))))
    return found


def _matching(view: View, patterns: tuple[str, ...], base: str | None) -> list[str]:
    names: dict[str, list[str]] = {}
    for pattern in patterns:
        folder, name = pattern.rsplit("/", 1)
        names.setdefault(folder, []).append(name)
    paths = []
    for folder, wanted in names.items():
        matches = re.compile("|".join(fnmatch.translate(n) for n in wanted))
        for directory in view.glob(folder, base):
            try:
                entries = view.list_dir(directory)
            except FsError:
                continue
            paths += [os.path.join(directory, e.name) for e in entries if e.name[0] != "." and matches.match(e.name)]
    return paths


def runtime_openssl(interpreter: str, shown: str, target: str, timeout: float | None = None) -> Collected:
    """Run an interpreter (opt-in) to read its ssl facts: -E -s -S (no environment, no user or site
    packages, so no .pth or sitecustomize of the target runs; the same isolation as Python 3's -I, which
    Python 2 lacks). The interpreter sits in <venv>/bin; when the venv's own site.py is what finds its
    standard library, the folders it would add are given to the script instead (auditor.collect.python.venv_base).
    One component, or one error entry saying why its OpenSSL was not read."""
    venv, shown_venv = (os.path.dirname(os.path.dirname(path)) for path in (interpreter, shown))
    base = base_stdlib(View(venv, display_top=shown_venv), interpreter)
    if base.errors:
        return Collected(errors=base.errors)
    return _one(_runtime_openssl(interpreter, shown, target, base.folders, timeout))


def _one(fact: Component | ScanError) -> Collected:
    return Collected(errors=[fact]) if isinstance(fact, ScanError) else Collected(components=[fact])


def _runtime_openssl(interpreter: str, shown: str, target: str, stdlib: list[str], timeout: float | None) -> Component | ScanError:
    ran = _run_bounded([interpreter, "-E", "-s", "-S", "-c", _PROBE, *stdlib], shown, "the interpreter", timeout)
    if isinstance(ran, ScanError):
        return ran
    out, err, code = ran
    facts = _answer(out)
    if "python" not in facts or "ssl" not in facts:
        return ScanError(shown, f"the interpreter's answer could not be read (exit {code}): {err.strip()[-200:]}")
    added = f" (with the base standard library {', '.join(stdlib)} on its path)" if stdlib else ""
    if facts["ssl"] != "ok":
        return ScanError(shown, f"Python {facts['python']}{added} could not import its ssl module ({facts['ssl']}): "
                                f"its OpenSSL was not read")
    if "openssl" not in facts or facts.get("sni") not in ("0", "1") or facts.get("tls1_2") not in ("0", "1"):
        return ScanError(shown, f"the interpreter's answer could not be read (exit {code}): {out.strip()[-200:]}")
    module = SslModule(shown, facts["python"], facts["sni"] == "1", facts["tls1_2"] == "1", tuple(stdlib))
    return Component("openssl", "openssl", _version_of(facts["openssl"]), shown,
                     "ssl.OPENSSL_VERSION of the interpreter, run with --runtime", target,
                     facts=OpenSSLFacts(facts["openssl"] or None, ssl_module=module))


def _answer(out: str) -> dict[str, str]:
    """The probe's key=value lines; the first value of each known key (anything else the program printed is ignored)."""
    facts: dict[str, str] = {}
    for line in out.splitlines():
        key, sep, value = line.partition("=")
        if sep and key in _ANSWER_KEYS:
            facts.setdefault(key, value.strip()[:200])
    return facts


def command_openssl(binary: str, target: str, timeout: float | None = None) -> Collected:
    """`openssl version` of this machine's openssl command (opt-in, --runtime): the library the command
    line tool and the scripts that call it use. One component, or one error entry saying why it was not read."""
    return _one(_command_openssl(binary, target, timeout))


def _command_openssl(binary: str, target: str, timeout: float | None) -> Component | ScanError:
    ran = _run_bounded([binary, "version"], binary, "openssl version", timeout)
    if isinstance(ran, ScanError):
        return ran
    out, err, code = ran
    version = _version_of(out.strip())
    if code != 0 or version is None:
        return ScanError(binary, f"openssl version gave no version (exit {code}): {(out + err).strip()[-200:]}")
    return Component("openssl", "openssl", version, binary, "`openssl version`, run with --runtime", target,
                     facts=OpenSSLFacts(out.strip()))


def _run_bounded(argv: list[str], shown: str, what: str, timeout: float | None) -> tuple[str, str, int] | ScanError:
    """(stdout, stderr, exit code) of a program of the scanned machine, run bounded (auditor.bounded_run)."""
    timeout = timeout or RUNTIME_TIMEOUT
    try:
        ran = run_bounded(argv, timeout)
    except TimedOut:
        return ScanError(shown, f"{what} did not answer within {timeout:g} s; killed")
    except RunFailed as exc:
        return ScanError(shown, f"{what} {exc}")
    return ran.out, ran.err, ran.code
