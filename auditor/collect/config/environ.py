"""The environment a scanned client would run with.

`auditor scan` of this machine uses the scanning process's own environment. For
another target a reviewer can give the service's environment with --env-file, in
the KEY=VALUE form that Docker (`--env-file`), systemd (`EnvironmentFile=`) and
shell `.env` files share: `export` prefixes, comments, blank lines and quoted
values are understood. Nothing in the file is evaluated.
"""

from __future__ import annotations

import os
import re

from auditor.records import field, mutable_record


ENV_FILE_CAP = 1024 * 1024
_ASSIGNMENT = re.compile(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")
_DOUBLE_QUOTED_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "$": "$"}
# Lines end as Docker, systemd and dotenv end them; str.splitlines would also split a value at \f, \x1c-\x1e,
# \x85 or U+2028 and quietly keep only its first part.
_LINE_END = re.compile(r"\r\n|\r|\n")


class EnvFileError(Exception):
    pass


@mutable_record
class Environ:
    """Variables and where they came from, for the reasons a report gives."""

    variables: dict[str, str] = field(default_factory=dict)
    origin: str = "the scanning process's environment"
    default_home: str = field(default_factory=lambda: os.path.expanduser("~"))

    def get(self, name: str) -> str | None:
        value = self.variables.get(name)
        return value if value else None

    def home(self) -> str:
        return self.get("HOME") or self.default_home

    @classmethod
    def of_this_process(cls) -> "Environ":
        return cls(dict(os.environ))

    @classmethod
    def of_an_image(cls) -> "Environ":
        """An OS image's services run with variables we cannot see: none, unless --env-file gives them."""
        return cls({}, "no environment (an image; give one with --env-file)", "/root")


def load_env_files(paths: list[str]) -> Environ:
    """Later files override earlier ones, as with repeated `docker run --env-file`."""
    variables: dict[str, str] = {}
    for path in paths:
        variables.update(parse_env_file(_read(path), path))
    return Environ(variables, "--env-file " + ", ".join(paths))


def _read(path: str) -> str:
    from auditor.inputs import read_input

    data = read_input(path, ENV_FILE_CAP, EnvFileError)  # "app.env: No such file or directory"
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise EnvFileError(f"{path}: not valid UTF-8 (byte {exc.start})") from exc


def parse_env_file(text: str, path: str = "env file") -> dict[str, str]:
    variables: dict[str, str] = {}
    for number, line in enumerate(_LINE_END.split(text), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _ASSIGNMENT.match(stripped)
        if not match:
            # `NAME` alone (Docker: copy from the host) has no value we can know.
            if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", stripped):
                continue
            raise EnvFileError(f"{path}:{number}: not a NAME=value line")
        variables[match.group(1)] = _value(match.group(2))
    return variables


def _value(raw: str) -> str:
    if raw[:1] == "'" and raw.rfind("'") > 0:
        return raw[1:raw.rfind("'")]
    if raw[:1] == '"' and raw.rfind('"') > 0:
        inner = raw[1:raw.rfind('"')]
        return re.sub(r"\\(.)", lambda m: _DOUBLE_QUOTED_ESCAPES.get(m.group(1), "\\" + m.group(1)), inner)
    return re.sub(r"\s+#.*$", "", raw).strip()
