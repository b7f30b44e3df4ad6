"""The environments a system gives the programs it starts on its own: systemd services, cron jobs, and logins.
Each is read through the View, and each variable keeps the file and line that set it.

Which variables reach which process, as the man pages say and nothing more:

* A systemd service (systemd.exec(5), "Environment variables in spawned processes"): the system manager
  starts it in a clean environment, to which come DefaultEnvironment= of systemd-system.conf(5), the
  unit's Environment= lines, then its EnvironmentFile= files (which override Environment=), less
  UnsetEnvironment=. With User=, systemd also sets $HOME, $USER, $LOGNAME and $SHELL from that user's
  passwd entry; without it the service runs as root. /etc/environment and /etc/profile.d are *not* read:
  they are for PAM sessions and login shells, and reach a unit only through an EnvironmentFile= that names
  them. (A unit with PAMName= opens a PAM session, whose modules may add variables: not modelled here.)
  Unit files come from the system search path of systemd.unit(5), the first directory holding a name
  winning; drop-ins (`NAME.service.d/*.conf`, the template's and dash-prefix ones, `service.d/*.conf`) are
  applied in file-name order; a unit linked to /dev/null or empty is masked and never runs.
* A cron job (crontab(5)): cron sets HOME, LOGNAME and SHELL from the passwd line of the job's user, then
  the crontab's own settings written before the entry apply. Where cron's PAM configuration loads pam_env
  (Debian's /etc/pam.d/cron: "Read environment variables from pam_env's default files, /etc/environment
  and /etc/security/pam_env.conf"), /etc/environment reaches the jobs too, below what cron and the crontab
  set (cron adds a PAM variable only where the job's environment has none).
* A login (pam_env(8), bash(1) INVOCATION): the PAM services that load pam_env read /etc/environment; a
  login shell then reads /etc/profile, which sources /etc/profile.d/*.sh on the distributions that ship it.

Each systemd unit and each distinct environment of cron entries is a Context: its variables, its user, the
folder its processes start in, and the programs it starts (ExecStart=, a cron command), so a Python environment a
program lives in can be resolved with that environment. The folder: a unit's WorkingDirectory= (~ its user's home),
else /, where systemd starts a system service; a cron job's HOME, where cron starts it. What cannot be read (a unit file, an EnvironmentFile=, a crontab without
permission) is an error entry.
"""

from __future__ import annotations

import os
import posixpath
import re
import shlex
from typing import Optional

from auditor.collect.platform.accounts import Accounts
from auditor.collect.platform.crontabs import parse_crontab
from auditor.collect.platform.login_env import pam_env_files, pam_environment, profile_exports
from auditor.collect import Origin
from auditor.collect.platform.unit_files import (Assignment, command_words, directives_of, environment_assignments, environment_file,
                                        expand_specifiers, unit_directives, unit_specifiers)
from auditor.fs import FsError, View
from auditor.model import ScanError
from auditor.records import field, mutable_record, record

FILE_CAP = 1024 * 1024
# systemd's system unit search path (systemd.unit(5)), first wins; /lib/systemd/system on systems without merged /usr.
UNIT_DIRS = ("/etc/systemd/system", "/run/systemd/system", "/usr/local/lib/systemd/system", "/usr/lib/systemd/system",
             "/lib/systemd/system")
MANAGER_CONFS = ("/etc/systemd/system.conf", "/run/systemd/system.conf", "/usr/lib/systemd/system.conf")
MANAGER_CONF_DIRS = ("/etc/systemd/system.conf.d", "/run/systemd/system.conf.d", "/usr/local/lib/systemd/system.conf.d",
                     "/usr/lib/systemd/system.conf.d")
# (glob, system crontab: entries name their user); RHEL's cronie keeps users' crontabs in /var/spool/cron itself.
CRONTABS = (("/etc/crontab", True), ("/etc/cron.d/*", True), ("/var/spool/cron/crontabs/*", False), ("/var/spool/cron/*", False))
# systemd's fixed search path for an ExecStart= program that is not an absolute path (systemd.service(5)).
EXEC_SEARCH_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
CRON_PATH = ("/usr/bin", "/bin")
SHELLS = ("sh", "bash", "dash", "ash", "zsh", "ksh")
# Project runners that run a command in the project's own virtualenv, the .venv of the working directory.
RUNNERS = ("uv", "poetry", "pipenv", "pdm", "hatch")
# Inits a container runs its command under (`tini -- COMMAND`, `dumb-init COMMAND`): the command is what runs Python.
INITS = ("tini", "tini-static", "dumb-init", "catatonit")


@record
class Program:
    """A program a context starts: its path as the system names it, or a virtualenv it runs in."""

    path: str  # absolute, or a bare name looked up in `search`
    how: str  # "ExecStart=/opt/app/venv/bin/python -m app", for a report's reasons
    location: str  # the file (as displayed) and
    line: int  # the line that starts it
    virtualenv: str = ""  # a runner's project virtualenv (WorkingDirectory/.venv), when that is what runs
    search: tuple[str, ...] = ()  # the folders a bare program name is looked up in, in order


@mutable_record
class Context:
    kind: str  # "systemd unit" or "cron"
    label: str  # "systemd unit orders.service", "cron job /etc/cron.d/sync:4"
    user: str
    home: str  # "" when not known
    home_note: str
    variables: dict[str, Origin] = field(default_factory=dict)  # in force, by name
    extra: list[Origin] = field(default_factory=list)  # written for it but overridden
    programs: list[Program] = field(default_factory=list)
    working_dir: str = ""  # the folder its processes start in, as the system names it; "" when not known
    working_note: str = ""  # what says so, for the reasons a report gives


@mutable_record
class Services:
    contexts: list[Context] = field(default_factory=list)
    login: list[Origin] = field(default_factory=list)  # /etc/environment and profile.d: every login's
    login_readers: dict[str, str] = field(default_factory=dict)  # found_in -> who reads them
    errors: list[ScanError] = field(default_factory=list)


def read_services(view: View, accounts: Accounts) -> Services:
    found = Services()
    environment = _etc_environment(view, found)
    manager = _manager_environment(view, found)
    for name, path in _unit_files(view, found.errors):
        context = _unit(view, name, path, manager, accounts, found.errors)
        if context is not None:
            found.contexts.append(context)
    found.contexts.extend(_cron(view, accounts, environment, found.errors))
    _login(view, environment, found)
    return found


# -- reading ----------------------------------------------------------------------------------------------

def _text(view: View, host: str, errors: list[ScanError]) -> Optional[str]:
    data = view.read_if_present(host, FILE_CAP, errors)
    return None if data is None else data.decode("utf-8", "surrogateescape")


def _valid(text: str) -> bool:
    """Text that is valid UTF-8: systemd and cron ignore a key or value that is not (check_utf8ness_and_warn)."""
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _origin(name: str, value: str, view: View, host: str, line: int, found_in: str, where: str, unknown: str = "") -> Origin:
    return Origin(value, variable=name, path=view.display(host), line=line, note=f"{name}={value} ({where})",
                  found_in=found_in, unknown=unknown)


def _put(variables: dict[str, Origin], extra: list[Origin], origin: Origin) -> None:
    if origin.variable in variables:
        extra.append(variables[origin.variable])
    variables[origin.variable] = origin


# -- systemd ------------------------------------------------------------------------------------------------

def _unit_files(view: View, errors: list[ScanError]) -> list[tuple[str, str]]:
    """(unit name, host path) of every service unit, the first directory of the search path holding a name
    winning; masked units left out, and an alias (a link to a unit under another name) read once, under the
    unit's own name."""
    chosen: dict[str, str] = {}  # name -> host path, "" when masked or unusable
    seen_dirs = set()
    null = view.locate(view.top, "/dev/null")
    for directory in UNIT_DIRS:
        host = view.locate(view.top, directory)
        try:
            real = view.resolve(host)
        except FsError:
            real = host
        if real in seen_dirs or view.kind(host) is None:
            continue  # /lib is /usr/lib on a merged-/usr system
        seen_dirs.add(real)
        folders = [host]
        if directory == "/etc/systemd/system":  # units enabled by a link from a .wants or .requires folder
            folders += [p for p in view.glob(directory + "/*", errors=errors) if p.endswith((".wants", ".requires"))]
        for folder in folders:
            for name in _listed(view, folder, errors):
                if name.endswith(".service"):
                    chosen.setdefault(name, os.path.join(folder, name))
    by_file: dict[str, list[str]] = {}
    for name, path in sorted(chosen.items()):
        try:
            resolved = view.resolve(path)
        except FsError as exc:
            errors.append(ScanError(view.display(path), f"cannot read: {exc}"))
            continue
        if resolved != null:  # a unit linked to /dev/null is masked
            by_file.setdefault(resolved, []).append(name)
    units = []
    for resolved, names in by_file.items():
        own = os.path.basename(resolved)
        templates = [n for n in names if "@" in n and n != own]  # instances of a template each have their own %i
        main = own if own in names else names[0]
        units += [(name, chosen[name]) for name in dict.fromkeys([main, *templates])]
    return sorted(units)


def _listed(view: View, folder: str, errors: list[ScanError]) -> list[str]:
    """Names in a folder, links included whatever they point to (a glob would drop a link to /dev/null)."""
    try:
        return [entry.name for entry in view.list_dir(folder)]
    except FsError as exc:
        if view.kind(folder) is not None:
            errors.append(ScanError(view.display(folder), f"cannot list directory: {exc}"))
        return []


def _drop_in_dirs(name: str) -> list[str]:
    """Drop-in folder names for a unit, least specific first: service.d, dash prefixes, the template's, its own."""
    stem = name[:-len(".service")]
    names = ["service.d"]
    parts = stem.split("-")
    names += ["-".join(parts[:i]) + "-.service.d" for i in range(1, len(parts))]
    prefix, at, instance = stem.partition("@")
    if at and instance:
        names.append(f"{prefix}@.service.d")
    names.append(f"{name}.d")
    return names


def _drop_ins(view: View, name: str, errors: list[ScanError]) -> list[str]:
    ordered: list[str] = []
    for folder in _drop_in_dirs(name):
        chosen: dict[str, str] = {}
        for directory in UNIT_DIRS:
            for path in view.glob(f"{directory}/{folder}/*.conf", errors=errors):
                chosen.setdefault(os.path.basename(path), path)
        ordered += [chosen[file] for file in sorted(chosen)]
    return ordered


def _manager_environment(view: View, found: Services) -> list[Origin]:
    """DefaultEnvironment= of the system manager (systemd-system.conf(5)): every service's, below its own."""
    paths = [next((p for p in (view.locate(view.top, c) for c in MANAGER_CONFS) if view.kind(p) is not None), None)]
    chosen: dict[str, str] = {}
    for directory in MANAGER_CONF_DIRS:
        for path in view.glob(directory + "/*.conf", errors=found.errors):
            chosen.setdefault(os.path.basename(path), path)
    paths += [chosen[name] for name in sorted(chosen)]
    variables: dict[str, Origin] = {}
    for path in filter(None, paths):
        text = _text(view, path, found.errors)
        for directive in directives_of(unit_directives(text or ""), "Manager", "DefaultEnvironment"):
            assignments = environment_assignments(directive.value, directive.line, {"h": "/root", "u": "root", "U": "0"})
            if assignments is None:
                variables.clear()
            for assignment in assignments or ():
                variables[assignment.name] = _origin(assignment.name, assignment.value, view, path, assignment.line,
                                                     "systemd unit", "DefaultEnvironment= of the service manager")
    return list(variables.values())


def _unit(view: View, name: str, path: str, manager: list[Origin], accounts: Accounts,
          errors: list[ScanError]) -> Optional[Context]:
    text = _text(view, path, errors)
    if text is None:
        return None
    if not text.strip():
        return None  # an empty unit file is masked (systemd.unit(5))
    files = [(path, text)]
    for drop_in in _drop_ins(view, name, errors):
        drop_text = _text(view, drop_in, errors)
        if drop_text is not None:
            files.append((drop_in, drop_text))
    label = f"systemd unit {name}"
    specifiers = unit_specifiers(name)
    environment: list[tuple[str, Assignment]] = []
    env_files: list[tuple[str, str, int]] = []  # (unit file, value, line)
    unset: list[str] = []
    exec_starts: list[tuple[str, str, int]] = []
    user, user_where, user_unresolved = "", None, ""
    working, working_where, working_unresolved = "", "", ""
    for file, file_text in files:
        for directive in unit_directives(file_text):
            if directive.section != "Service":
                continue
            key, value = directive.key, directive.value
            if key == "Environment":
                assignments = environment_assignments(value, directive.line, specifiers)
                if assignments is None:
                    environment.clear()
                environment += [(file, a) for a in assignments or ()]
            elif key == "EnvironmentFile":
                if not value:
                    env_files.clear()
                else:
                    env_files.append((file, value, directive.line))
            elif key == "UnsetEnvironment":
                unset += command_words(value) if value else []
            elif key == "ExecStart":
                if not value:
                    exec_starts.clear()
                else:
                    exec_starts.append((file, value, directive.line))
            elif key == "User":
                (user, user_unresolved), user_where = expand_specifiers(value, specifiers), (file, directive.line)
            elif key == "WorkingDirectory":
                (working, working_unresolved), working_where = expand_specifiers(value, specifiers), \
                    f"{view.display(file)}:{directive.line}"
    variables: dict[str, Origin] = {}
    extra: list[Origin] = []
    for origin in manager:
        _put(variables, extra, origin)
    for file, assignment in environment:
        unknown = f"it holds the systemd specifier {assignment.unresolved}, known only when the unit runs" \
            if assignment.unresolved else ""
        _put(variables, extra, _origin(assignment.name, assignment.value, view, file, assignment.line, "systemd unit",
                                       f"Environment= of {name}", unknown))
    for file, value, line in env_files:
        for origin in _environment_files(view, name, file, value, line, specifiers, errors):
            _put(variables, extra, origin)
    for word in unset:
        variable, equals, value = word.partition("=")
        if variable in variables and (not equals or variables[variable].value == value):
            extra.append(variables.pop(variable))
    user = user or "root"
    if user_unresolved:  # a template's User=%i: each instance has its own user, and its own home
        home, home_note = "", ""
    else:
        home, home_note = _home(accounts, user, variables, errors,
                                f"{view.display(user_where[0])}:{user_where[1]}" if user_where else view.display(path), "User=")
    context = Context("systemd unit", label, user, home, home_note, variables, extra)
    if not working_unresolved:  # a template's WorkingDirectory=%i/…: each instance has its own
        context.working_dir, context.working_note = _working_directory(working, working_where, home, name)
    for file, value, line in exec_starts:
        words = command_words(_substitute(value, variables))
        context.programs += command_programs(words, f"ExecStart={value}", view.display(file), line, EXEC_SEARCH_PATH,
                                             context.working_dir)
    return context


def _environment_files(view: View, unit: str, file: str, value: str, line: int, specifiers: dict[str, str],
                       errors: list[ScanError]) -> list[Origin]:
    optional = value.startswith("-")
    pattern, _ = expand_specifiers(value[1:] if optional else value, specifiers)
    where = f"{view.display(file)}:{line}"
    if not pattern.startswith("/"):
        errors.append(ScanError(where, f"EnvironmentFile={pattern} is not an absolute path: systemd ignores it"))
        return []
    paths = view.glob(pattern, errors=errors) if any(c in pattern for c in "*?[") else [view.locate(view.top, pattern)]
    origins = []
    for path in paths:
        if view.kind(path) is None:
            if not optional:
                errors.append(ScanError(where, f"EnvironmentFile={pattern} does not exist: systemd does not start "
                                               f"{unit} without it (a '-' prefix would make it optional)"))
            continue
        text = _text(view, path, errors)
        for assignment in environment_file(text or ""):
            if _valid(assignment.name + assignment.value):
                origins.append(_origin(assignment.name, assignment.value, view, path, assignment.line, "systemd unit",
                                       f"EnvironmentFile= of {unit}"))
    return origins


def _home(accounts: Accounts, user: str, variables: dict[str, Origin], errors: list[ScanError], where: str,
          setting: str) -> tuple[str, str]:
    """The home of a context's processes: HOME when its environment sets it, else the user's passwd entry."""
    if "HOME" in variables and variables["HOME"].value.startswith("/"):
        origin = variables["HOME"]
        return origin.value, f"HOME set at {origin.path}:{origin.line}"
    home = accounts.home_of(user)
    if home:
        return home, f"the home of {user} in /etc/passwd"
    errors.append(ScanError(where, f"{setting}{user}: no such user in /etc/passwd, so the home of its processes "
                                   f"(~, ~/.aws/config, ~/.boto) is not known and was not read"))
    return "", ""


def _working_directory(value: str, where: str, home: str, unit: str) -> tuple[str, str]:
    """The folder a unit's processes start in and why (systemd.exec(5), WorkingDirectory=): the folder it names (a
    leading "-" only makes a missing one no error), its user's home for "~", and / when it names none, as systemd
    starts a system service; ("", "") when not known (a relative path, which systemd refuses; ~ of an unknown home)."""
    value = value[1:] if value.startswith("-") else value
    if not value:
        return "/", "/, where systemd starts a system service whose unit sets no WorkingDirectory="
    if value == "~":
        return (home, f"{home}, its user's home (WorkingDirectory=~ of {unit}, {where})") if home else ("", "")
    if value.startswith("/"):
        return posixpath.normpath(value), f"WorkingDirectory={value} of {unit} ({where})"
    return "", ""


def _substitute(value: str, variables: dict[str, Origin]) -> str:
    """ExecStart='s ${NAME} and $NAME, replaced by the unit's variables as systemd does."""
    def one(match: re.Match) -> str:
        name = match.group(1) or match.group(2)
        return variables[name].value if name in variables else match.group(0)
    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)", one, value)


def command_programs(words: list[str], how: str, location: str, line: int, search: tuple[str, ...], working: str,
                     relative: bool = False) -> list[Program]:
    """The programs a command starts that can lead to a Python environment: the program itself (through `env`, an
    init such as tini, and `sh -c`), and a project runner's virtualenv in the working directory `working` ("" when not
    known). `relative`: a program path with a slash that is not absolute is run from the working directory, as
    execve runs it (a container's process, a shell's command); systemd refuses one in ExecStart=."""
    words = _unwrapped(words)
    if not words:
        return []
    found = []
    if words[0].startswith("/"):
        found.append(Program(words[0], how, location, line))
    elif "/" not in words[0]:
        found.append(Program(words[0], how, location, line, search=search))
    elif relative and working:
        found.append(Program(posixpath.normpath(posixpath.join(working, words[0])), how, location, line))
    name = os.path.basename(words[0])
    if name in SHELLS and "-c" in words[1:-1]:
        script = _shell_words(words[words.index("-c") + 1])
        found += [Program(word, how, location, line) for word in script if word.startswith("/")]
        while script and script[0] == "exec":
            script = script[1:]
        if script and not script[0].startswith("/"):
            found += command_programs(script, how, location, line, search, working, relative=True)
    if name in RUNNERS and "run" in words[1:] and working:
        found.append(Program(words[0], how, location, line, virtualenv=posixpath.join(working, ".venv")))
    return found


def _unwrapped(words: list[str]) -> list[str]:
    """The command that `env [-i] [NAME=value]… COMMAND` or an init (`tini -- COMMAND`, `dumb-init COMMAND`) runs."""
    while words and os.path.basename(words[0]) in ("env", *INITS):
        init = os.path.basename(words[0]) in INITS
        words = words[1:]
        if init and "--" in words:
            words = words[words.index("--") + 1:]
            continue
        while words and (words[0].startswith("-") or (not init and "=" in words[0])):
            words = words[1:]
    return words


def _shell_words(script: str) -> list[str]:
    try:
        return shlex.split(script, comments=True)
    except ValueError:
        return script.split()


# -- cron ---------------------------------------------------------------------------------------------------

def _cron(view: View, accounts: Accounts, environment: list[Origin], errors: list[ScanError]) -> list[Context]:
    readers = _pam_files(view, ("cron", "crond"))
    pam = [o for o in environment if "/etc/environment" in readers.get("cron", ()) and o.variable != "HOME"]
    contexts: dict[tuple, Context] = {}
    seen: set[str] = set()
    for pattern, system in CRONTABS:
        for path in view.glob(pattern, errors=errors):
            if path in seen or os.path.basename(path).startswith(".") or view.kind(path) == "dir":
                continue
            seen.add(path)
            text = _text(view, path, errors)
            if text is None:
                continue
            owner = "" if system else os.path.basename(path)
            settings, entries = parse_crontab(text, system)
            shown = view.display(path)
            origins = {s.line: _origin(s.name, s.value, view, path, s.line, "crontab", f"crontab {shown}")
                       for s in settings if _valid(s.name + s.value)}
            used: set[int] = set()
            for entry in entries:
                user = entry.user or owner
                key = (user, tuple(s.line for s in entry.settings), shown)
                context = contexts.get(key)
                if context is None:
                    variables: dict[str, Origin] = {}
                    extra: list[Origin] = []
                    for origin in pam:
                        _put(variables, extra, origin)
                    for setting in entry.settings:
                        if setting.line in origins:
                            _put(variables, extra, origins[setting.line])
                            used.add(setting.line)
                    home, note = _home(accounts, user, variables, errors, f"{shown}:{entry.line}", "the cron job's user ")
                    context = contexts[key] = Context("cron", f"cron jobs of {user} in {shown}", user, home, note,
                                                      variables, extra)
                    if home:  # cron changes to HOME before it runs the job's shell (cron's do_command.c)
                        context.working_dir, context.working_note = home, f"{home}, the home cron starts the job in"
                # cron runs the command with /bin/sh -c: its program, through PATH=/usr/bin:/bin, and any path in it
                words = _shell_words(entry.command)
                how = f"cron job: {entry.command}"
                context.programs += command_programs(words, how, shown, entry.line, CRON_PATH, context.working_dir,
                                                     relative=True)
                context.programs += [Program(w, how, shown, entry.line) for w in words[1:] if w.startswith("/")]
            unused = [o for line, o in origins.items() if line not in used]
            if unused:  # settings after the last entry, or in a crontab without one: reported all the same
                home = (accounts.home_of(owner) or "") if owner else ""
                contexts[(owner, "unused", shown)] = Context("cron", f"crontab {shown}", owner, home,
                                                             f"the home of {owner} in /etc/passwd" if home else "",
                                                             {}, unused)
    return list(contexts.values())


# -- logins ---------------------------------------------------------------------------------------------------

def _pam_files(view: View, services: tuple[str, ...]) -> dict[str, list[str]]:
    """The env files pam_env reads for each PAM service (nothing where the image has no /etc/pam.d)."""
    if view.kind(view.locate(view.top, "/etc/pam.d")) != "dir":
        return {}

    def read(path: str) -> Optional[str]:
        data = view.read_if_present(view.locate(view.top, path), FILE_CAP, [])
        return None if data is None else data.decode("utf-8", "replace")

    found = {}
    for service in services:
        files = pam_env_files(read, service)
        if files:
            found[service if service != "crond" else "cron"] = files
    return found


def _etc_environment(view: View, found: Services) -> list[Origin]:
    path = view.locate(view.top, "/etc/environment")
    text = _text(view, path, found.errors)
    return [_origin(name, value, view, path, line, "/etc/environment", "/etc/environment, read by pam_env")
            for name, value, line in pam_environment(text or "") if _valid(name + value)]


def _login(view: View, environment: list[Origin], found: Services) -> None:
    readers = _pam_files(view, ("login", "sshd", "su", "sudo", "cron", "crond", "systemd-user"))
    services = sorted(s for s, files in readers.items() if "/etc/environment" in files)
    found.login += environment
    found.login_readers["/etc/environment"] = (
        "PAM sessions that load pam_env: " + ", ".join(services) if services else
        "PAM sessions that load pam_env (none of login, sshd, su, sudo, cron does in this system)")
    profile = view.locate(view.top, "/etc/profile")
    sourced = b"profile.d" in (view.read_if_present(profile, FILE_CAP, found.errors) or b"")
    found.login_readers["profile.d script"] = ("login shells (/etc/profile sources /etc/profile.d)" if sourced else
                                               "login shells that source it (this system's /etc/profile does not)")
    for path in view.glob("/etc/profile.d/*.sh", errors=found.errors):
        text = _text(view, path, found.errors)
        for assignment in profile_exports(text or ""):
            if not _valid(assignment.name + assignment.value):
                continue
            unknown = assignment.dynamic or (
                "the shell expands ~ to the home of whoever logs in" if assignment.home_relative else "")
            found.login.append(_origin(assignment.name, assignment.value, view, path, assignment.line, "profile.d script",
                                       "exported to login shells", unknown))


def service_virtualenvs(view: View) -> list[str]:
    """Virtualenvs (host paths) that systemd units and cron jobs run programs from, for the scan to read; the
    problems met reading them are reported when the scan resolves trust (auditor.collect.config.run_contexts)."""
    from auditor.collect.platform.accounts import read_accounts

    found: list[str] = []
    for context in read_services(view, read_accounts(view)).contexts:
        for program in context.programs:
            venv = virtualenv_of(view, program)
            if venv and venv not in found:
                found.append(venv)
    return found


def program_path(view: View, program: Program) -> str | None:
    """The host path of the program a context starts: a bare name is the first found on its search path."""
    if not program.search:
        return view.locate(view.top, program.path)
    for folder in program.search:
        candidate = view.locate(view.top, os.path.join(folder, program.path))
        if view.kind(candidate) is not None:
            return candidate
    return None


def virtualenv_of(view: View, program: Program) -> str | None:
    """The virtualenv (host path of its folder) a program runs in: the runner's project one, or the nearest
    folder above the program holding pyvenv.cfg."""
    if program.virtualenv:
        venv = view.locate(view.top, program.virtualenv)
        return venv if view.is_file(os.path.join(venv, "pyvenv.cfg")) else None
    host = program_path(view, program)
    if host is None or not view.inside(host):
        return None
    folder = os.path.dirname(host)
    while view.inside(folder) and folder != view.top:
        try:
            if view.is_file(os.path.join(folder, "pyvenv.cfg")):
                return folder
        except FsError:
            return None
        folder = os.path.dirname(folder)
    return None
