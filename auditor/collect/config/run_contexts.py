"""The contexts a scanned system's clients run in, and which Python environment runs in which.

A context is one environment and one home (a TrustSettings): the scan's own (this process's environment,
--env-file's, or none for an image, whose home is then root's), each systemd unit's and cron job's
(auditor.collect.platform.services), every login's (/etc/environment, /etc/profile.d), and one per home folder,
whose ~/.aws/config and ~/.boto are read with that home (a config file in /home/deploy means ~ is
/home/deploy). ~/.aws/credentials is never read: it holds secrets and no trust setting.

Linking, best effort, from the programs a unit's ExecStart= or a cron command starts:
* a program inside a virtualenv (an ancestor folder holds pyvenv.cfg: bin/python, a console script in its
  bin/) runs that virtualenv's packages;
* `/bin/sh -c '…'` (and every cron command, which cron runs so) is searched for such paths too;
* a system interpreter (PREFIX/bin/pythonX[.Y], a bare `python3` found on systemd's or cron's fixed PATH)
  runs the packages of PREFIX/lib*/python*/ (and, for /usr, Debian's /usr/local/lib/python*/dist-packages);
* `uv`, `poetry`, `pipenv`, `pdm` or `hatch` with `run` runs WorkingDirectory/.venv.
A container image's own process (its config's Entrypoint and Cmd, auditor.collect.platform.image_process) is
linked the same way, a bare name looked up on its Env's PATH, to the scan's own context, which is that process's:
the image's Env, its User's home, its WorkingDir.
Not linked: a program that starts Python some other way (a wrapper script, except an image's Entrypoint script
that runs its Cmd, a container, a PATH set by the unit, an interpreter named by a variable). Such a service's settings are still reported, and the stores
they name checked.
"""

from __future__ import annotations

import os
import re

from auditor.collect import PythonPath
from auditor.collect.platform.accounts import Accounts, home_directories, read_accounts
from auditor.collect.platform.image_process import ImageProcess
from auditor.collect.platform.services import Context, Program, program_path, read_services, virtualenv_of
from auditor.collect.config.trust_settings import TrustSettings, read_trust_settings
from auditor.collect.config.environ import Environ
from auditor.fs import View
from auditor.model import ScanError

_INTERPRETER = re.compile(r"python(?:\d+(?:\.\d+)?)?$")


def system_contexts(view: View, environ: Environ, image: bool, paths: list[PythonPath],
                    run_as: str | None = None, process: ImageProcess | None = None) -> tuple[TrustSettings, list[TrustSettings]]:
    """The scan's own context and every other one of the system in `view`; each of `paths` that a service
    runs gets that service's context in its `contexts`. `run_as`: a container image's config User ("app",
    "1000:1000"), whose home is the image's own context's, as docker sets HOME. `process`: what a container
    image's config runs (its Entrypoint and Cmd, in its WorkingDir): the scan's own context is that process's,
    and each of `paths` it runs gets it first."""
    accounts = read_accounts(view)
    user = (run_as or "").partition(":")[0]
    if environ.get("HOME"):
        home, note = environ.get("HOME"), f"HOME from {environ.origin}"
    elif image and user not in ("", "root", "0"):
        found = accounts.home_of(user)
        home, note = (found, f"the home of {user}, the user the image's config runs as") if found else \
            ("/", f"{user}, the user the image's config runs as, is not in its /etc/passwd: HOME is / (as docker sets it)")
    elif image:
        home, note = accounts.home_of("root") or "/root", "root's home: an image's processes run as root unless told"
    else:
        home, note = environ.home(), ""
    working = {"working_dir": process.working_dir, "working_note": process.working_note} if process else {}
    default = read_trust_settings(view, environ, home, accounts=accounts, home_note=note, **working)
    if process is not None:
        _link_image_process(view, process, default, paths)
    services = read_services(view, accounts)
    default.errors += accounts.errors + services.errors
    others: list[TrustSettings] = []
    for context in services.contexts:
        settings = _settings_of(view, context, accounts)
        others.append(settings)
        for program in context.programs:
            for path in _paths_run_by(view, program, paths):
                why = f"runs as {context.label}: {program.location}:{program.line}: {_short(program.how)}"
                if all(existing is not settings for existing, _ in path.contexts):
                    path.contexts.append((settings, why))
    for found_in, reader in services.login_readers.items():
        extra = [o for o in services.login if o.found_in == found_in]
        if extra:
            others.append(TrustSettings(Environ({}, reader, ""), home="", accounts=accounts, extra=extra, label=reader))
    moved = any(environ.get(v) for v in ("AWS_CONFIG_FILE", "BOTO_CONFIG", "BOTO_PATH"))
    for home in _homes(view, accounts, default.errors):
        if home != default.home or moved:
            others.append(read_trust_settings(view, Environ({}, f"processes whose home is {home}", home), home,
                                              accounts=accounts, home_note="the home the file is in",
                                              label=f"processes whose home is {home}"))
    return default, others


def _link_image_process(view: View, process: ImageProcess, own: TrustSettings, paths: list[PythonPath]) -> None:
    """Each of `paths` the image's own process runs runs in `own` (the scan's own context), before any other."""
    for program in process.programs:
        for path in _paths_run_by(view, program, paths):
            if all(existing is not own for existing, _ in path.contexts):
                path.contexts.insert(0, (own, process.reason(program)))


def _settings_of(view: View, context: Context, accounts: Accounts) -> TrustSettings:
    variables = {name: origin.value for name, origin in context.variables.items()}
    return read_trust_settings(view, Environ(variables, context.label, context.home), context.home, accounts=accounts,
                               origins=dict(context.variables), extra=list(context.extra), label=context.label,
                               home_note=context.home_note, working_dir=context.working_dir,
                               working_note=context.working_note)


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _homes(view: View, accounts: Accounts, errors: list[ScanError]) -> list[str]:
    """The home folders whose config files a user's clients read: /root, /home/*, and the passwd homes of the
    users that can log in."""

    found = home_directories(view)
    errors += found.errors
    homes = found.folders
    for account in accounts.by_name.values():
        if account.logs_in and account.home.startswith("/") and account.home != "/" and account.home not in homes:
            if view.is_dir(view.locate(view.top, account.home)):
                homes.append(account.home)
    return homes


def _paths_run_by(view: View, program: Program, paths: list[PythonPath]) -> list[PythonPath]:
    venv = virtualenv_of(view, program)
    if venv is not None:
        return [p for p in paths if p.view.top == view.top and any(_below(e, venv) for e in p.entries)]
    host = program_path(view, program)
    if host is None or not _INTERPRETER.match(os.path.basename(host)) or os.path.basename(os.path.dirname(host)) != "bin":
        return []
    if view.kind(host) is None:
        return []
    prefix = os.path.dirname(os.path.dirname(host))
    libs = [os.path.join(prefix, lib) for lib in ("lib", "lib64")]
    if prefix == view.locate(view.top, "/usr"):
        libs.append(view.locate(view.top, "/usr/local/lib"))
    return [p for p in paths if p.view.top == view.top
            and any(_below(e, lib) and os.path.basename(os.path.dirname(e)).startswith("python") for e in p.entries
                    for lib in libs)]


def _below(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)
