"""What a container image runs, from its config alone (the OCI image spec's config fields, as docker runs them):
Entrypoint followed by Cmd (Cmd alone when there is no Entrypoint), as its User, in its WorkingDir, with its Env.
Nothing is run.

* A Dockerfile's shell form is stored as ["/bin/sh", "-c", "TEXT"]: read as a unit's `sh -c` is (services.py).
* A bare program name is looked up on the PATH of the Env, else on the PATH docker gives a container whose image
  sets none; a relative path with a slash is run from the working directory, as execve runs it.
* An Entrypoint that is a shell script running its arguments (`exec "$@"`, the docker-entrypoint.sh pattern) runs
  the Cmd too: the Cmd is then read as a command of its own.
* The working directory: WorkingDir, else / (docker's default). Docker refuses to create a container whose
  WorkingDir is not an absolute path.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from typing import Any, Mapping

from auditor.collect.platform.services import Program, command_programs, program_path
from auditor.fs import FsError, View
from auditor.model import ScanError
from auditor.records import field, mutable_record

# The PATH docker sets for a Linux container whose image's Env has none (moby's DefaultPathEnv).
DOCKER_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
SCRIPT_CAP = 64 * 1024
# A shell script that runs its own arguments as a command: `exec "$@"`, or `"$@"` starting a line.
_RUNS_ARGUMENTS = re.compile(r'(?:^|\bexec)\s*"\$(?:@|\{@\})"', re.MULTILINE)
_SHOWN = 200


@mutable_record
class ImageProcess:
    """The image's own process: its command (empty when the config names none), the programs that command starts,
    and the folder it starts in (with what says so)."""

    fields: str  # the config fields its command comes from: "Entrypoint", "Cmd", "Entrypoint and Cmd"
    command: list[str] = field(default_factory=list)
    working_dir: str = ""  # as the image names it; "" when not known
    working_note: str = ""
    programs: list[Program] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)

    def shown(self) -> str:
        """What it runs, for a report: "Entrypoint and Cmd: tini -- python -m app"; "" when nothing."""
        return f"{self.fields}: {_short(shlex.join(self.command))}" if self.command else ""

    def reason(self, program: Program) -> str:
        """Why a Python environment the program runs runs in the image's own context, for a report."""
        return f"runs as the image's {program.how}"


def image_process(view: View, config: Mapping[str, Any], variables: Mapping[str, str], where: str) -> ImageProcess:
    """The process the image's config `config` (its "config" object) starts; `variables`: the environment it runs
    with (its Env, and --env-file's); `where`: the image, as its error entries name it."""
    errors: list[ScanError] = []
    entrypoint = _words(config, "Entrypoint", where, errors)
    cmd = _words(config, "Cmd", where, errors)
    working_dir, working_note = _working_dir(config.get("WorkingDir"), where, errors)
    fields = " and ".join(name for name, words in (("Entrypoint", entrypoint), ("Cmd", cmd)) if words)
    command = entrypoint + cmd
    process = ImageProcess(fields, command, working_dir, working_note, errors=errors)
    if not command:
        return process
    path = variables.get("PATH")
    search = tuple(p for p in path.split(":") if p.startswith("/")) if path is not None else DOCKER_PATH
    process.programs = command_programs(command, process.shown(), "the image's config", 0, search, working_dir, relative=True)
    if entrypoint and cmd:
        script = _argument_runner(view, entrypoint, search, working_dir, errors)
        if script:
            how = f"Cmd: {_short(shlex.join(cmd))}, run by its Entrypoint script {script} (exec \"$@\")"
            process.programs += command_programs(cmd, how, "the image's config", 0, search, working_dir, relative=True)
    return process


def _words(config: Mapping[str, Any], name: str, where: str, errors: list[ScanError]) -> list[str]:
    value = config.get(name)
    if value is None:
        return []
    if isinstance(value, str):  # docker's API takes a string for a one-word list (its strslice type)
        return [value]
    if isinstance(value, list) and all(isinstance(word, str) for word in value):
        return list(value)
    errors.append(ScanError(where, f"the image config's {name} is not a list of strings: what the image runs is not known"))
    return []


def _working_dir(value: Any, where: str, errors: list[ScanError]) -> tuple[str, str]:
    if value is None or value == "":
        return "/", "/, where docker starts a container whose image sets no WorkingDir"
    if not isinstance(value, str):
        errors.append(ScanError(where, "the image config's WorkingDir is not a string: its working directory is not known"))
        return "", ""
    if not value.startswith("/"):
        errors.append(ScanError(where, f"the image config's WorkingDir {value!r} is not an absolute path: docker refuses "
                                       f"to create a container with it, and its working directory is not known"))
        return "", ""
    folder = posixpath.normpath(value)
    return folder, f"the image's WorkingDir {folder}"


def _argument_runner(view: View, entrypoint: list[str], search: tuple[str, ...], working_dir: str,
                     errors: list[ScanError]) -> str:
    """The Entrypoint's script as the image names it, when it is a script that runs its arguments; else "" (an
    error entry when the script cannot be read: whether it runs the Cmd is then not known)."""
    programs = command_programs(entrypoint, "", "", 0, search, working_dir, relative=True)
    host = program_path(view, programs[0]) if programs and not programs[0].virtualenv else None
    if host is None or view.kind(host) != "file":
        return ""
    try:
        text = view.read_bytes(host, SCRIPT_CAP, head=True).decode("utf-8", "replace")
    except FsError as exc:
        errors.append(ScanError(view.display(host), f"the image's Entrypoint script cannot be read ({exc}): whether it "
                                                    f"runs the Cmd is not known, and the Cmd's programs are not linked"))
        return ""
    return view.display(host) if text.startswith("#!") and _RUNS_ARGUMENTS.search(text) else ""


def _short(text: str) -> str:
    return text if len(text) <= _SHOWN else text[:_SHOWN - 1] + "…"
