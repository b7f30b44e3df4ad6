"""Trust settings written in a tree's own code and scripts.

Python files are parsed with `ast`, never imported or run: a call that creates an AWS
client (boto3.client/resource, a boto3 or aioboto3 Session's client/resource, a botocore
or aiobotocore session's create_client) with a `verify` argument, and code that sets
os.environ["AWS_CA_BUNDLE"]. botocore's Config has no `verify` option (Config(verify=…)
raises TypeError), and its client_cert and proxies_config settings concern the client's
own certificate and the proxy, not the endpoint's, so Config is not read.

Scripts (shell, Makefile, Dockerfile, CI pipelines, Jenkinsfile, PowerShell) are read
line by line: an `aws` command with --no-verify-ssl or --ca-bundle, `aws configure set
ca_bundle`, and assignments to AWS_CA_BUNDLE. Comments do not count. A command continued
over several lines is reported at the line where `aws` is written; an assignment at its
own line. Python settings are reported at the line where the call starts.

Each setting is a trust-config component whose details say its `effect`:
"disabled" (certificate validation is off), "custom-bundle" (a bundle replaces the
SDK's default store) or "unknown" (verify is computed at run time).
"""

from __future__ import annotations

import ast
import bisect
import fnmatch
import io
import os
import re
import tokenize
from collections import Counter
from typing import Iterator, NamedTuple, Optional

from auditor.collect import Collected
from auditor.fs import FsError, View
from auditor.model import Component, ScanError

SOURCE_CAP = 2 * 1024 * 1024
PYTHON = "python ast"

_SCRIPT_NAMES = (
    ("Makefile", "Makefile"), ("makefile", "Makefile"), ("GNUmakefile", "Makefile"), ("*.mk", "Makefile"),
    ("Dockerfile", "Dockerfile"), ("Dockerfile.*", "Dockerfile"), ("*.Dockerfile", "Dockerfile"),
    ("*.dockerfile", "Dockerfile"), ("Containerfile", "Dockerfile"),
    ("*.sh", "shell script"), ("*.bash", "shell script"), ("*.ps1", "PowerShell script"),
    ("Jenkinsfile", "Jenkinsfile"), (".gitlab-ci.yml", "GitLab CI"), ("buildspec*.yml", "CodeBuild buildspec"),
    ("buildspec*.yaml", "CodeBuild buildspec"), ("bitbucket-pipelines.yml", "Bitbucket Pipelines"),
    ("azure-pipelines.yml", "Azure Pipelines"),
)


def source_format(directory: str, name: str) -> Optional[str]:
    """How a file is read for trust settings ('python ast', 'shell script', 'Makefile', …), or None."""
    if name.endswith(".py"):
        return PYTHON
    for pattern, label in _SCRIPT_NAMES:
        if fnmatch.fnmatchcase(name, pattern):
            return label
    if name.endswith((".yml", ".yaml")):
        parent, leaf = os.path.split(directory)
        if leaf == "workflows" and os.path.basename(parent) == ".github":
            return "GitHub Actions workflow"
        if leaf == ".circleci" and name.startswith("config."):
            return "CircleCI config"
    return None


class Setting(NamedTuple):
    line: int
    name: str  # "verify", "--no-verify-ssl", "--ca-bundle", "ca_bundle", "AWS_CA_BUNDLE"
    effect: str  # disabled | custom-bundle | unknown
    value: Optional[str]
    statement: str  # the call or command, on one line
    extra: dict  # more details: the SDK call and service


def collect_trust_config(view: View, path: str, target: str, label: str) -> Collected:
    """Trust-config components for the settings one source file writes."""
    result = Collected()
    where = view.display(path)
    try:
        data = view.read_bytes(path, SOURCE_CAP)
    except FsError as exc:
        result.errors.append(ScanError(where, f"cannot read: {exc}"))
        return result
    if label == PYTHON:
        settings, source = python_settings(data, where, result.errors)
    else:
        settings, source = script_settings(data, label), label
    for setting in settings:
        details = {"setting": setting.name, "effect": setting.effect, "found_in": "python" if label == PYTHON else "script",
                   "statement": setting.statement, **setting.extra}
        if setting.value is not None:
            details["value"] = setting.value
        result.components.append(Component("trust-config", setting.name, None, where, source, target,
                                           line=setting.line, details=details))
    return result


# -- Python ----------------------------------------------------------------------

_SDK_MODULES = ("boto3", "botocore", "aioboto3", "aiobotocore")
_SESSION_FACTORIES = frozenset({
    "boto3.Session", "boto3.session.Session", "botocore.session.Session", "botocore.session.get_session",
    "aioboto3.Session", "aioboto3.session.Session", "aiobotocore.session.AioSession", "aiobotocore.session.get_session",
})
_CLIENT_FACTORIES = frozenset({"boto3.client", "boto3.resource"})
_SESSION_METHODS = frozenset({"client", "resource", "create_client"})
# (service_name, region_name, api_version, use_ssl, verify, …) in every factory above
_VERIFY_POSITION = 4
_STATEMENT_CHARS = 200
_LINE_END = re.compile(r"\r\n|\r|\n")  # what ends a line for ast (str.splitlines also splits on \f and others)
# For a file that does not parse (Python 2): a client factory call and a literal verify on one line.
_VERIFY_LINE = re.compile(r"""([\w.]*\b(?:client|resource|create_client))\s*\(.*?\bverify\s*=\s*(False\b|"[^"]+"|'[^']+')""")


def python_settings(data: bytes, where: str, errors: list[ScanError]) -> tuple[list[Setting], str]:
    """The settings in one Python file, and how they were found.

    A file is parsed only if its bytes mention both `verify` and `boto` (every SDK module
    name holds it), or AWS_CA_BUNDLE: most files of a large tree are skipped unparsed.
    """
    if not ((b"verify" in data and b"boto" in data) or b"AWS_CA_BUNDLE" in data):
        return [], PYTHON
    try:
        encoding = tokenize.detect_encoding(io.BytesIO(data).readline)[0]
        text = data.decode(encoding)
    except (SyntaxError, UnicodeDecodeError, LookupError) as exc:
        errors.append(ScanError(where, f"cannot decode the source: {exc}; not searched"))
        return [], PYTHON
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        reason = f"line {exc.lineno}: {exc.msg}" if isinstance(exc, SyntaxError) else type(exc).__name__
        errors.append(ScanError(where, f"does not parse as Python 3 ({reason}); searched line by line for verify= "
                                       "in SDK client calls instead"))
        return list(_line_search(text)), "python line search"
    return list(_Module(tree, text).settings()), PYTHON


def _line_search(text: str) -> Iterator[Setting]:
    for number, line in enumerate(text.split("\n"), 1):
        match = _VERIFY_LINE.search(line.split("#", 1)[0])
        if match:
            value = match.group(2)
            effect = "disabled" if value == "False" else "custom-bundle"
            yield Setting(number, "verify", effect, value.strip("'\""), _one_line(line), {"call": match.group(1)})


class _Module:
    """One parsed file: what its names stand for, and the trust settings its calls make.

    Names are resolved through imports (import boto3 as b, from boto3.session import
    Session) and assignments of SDK sessions (session = boto3.Session(), self.s = …) in
    one flat scope: a name bound to a session anywhere in the file counts everywhere in it.
    A client method called on a name the file does not bind (a session passed in as a
    parameter) counts when the file imports an AWS SDK.
    """

    def __init__(self, tree: ast.Module, text: str):
        self.text = text
        self.lines: Optional[list[bytes]] = None  # UTF-8 lines, as ast's column offsets count
        self.bound: dict[str, str] = {}  # name or dotted attribute -> what it stands for
        self.imports_sdk = False
        self.calls: list[ast.Call] = []
        self.assignments: list[ast.Assign] = []
        named: list[tuple[Optional[str], ast.expr]] = []  # (name or dotted attribute, value) of each assignment
        stores: Counter[str] = Counter()  # how often each name is bound
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                self.calls.append(node)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    root = alias.name.split(".")[0]
                    self.bound[alias.asname or root] = alias.name if alias.asname else root
                    self.imports_sdk |= root in _SDK_MODULES
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    self.bound[alias.asname or alias.name] = f"{node.module}.{alias.name}"
                self.imports_sdk |= node.module.split(".")[0] in _SDK_MODULES
            elif isinstance(node, ast.Assign):
                self.assignments.append(node)
                named.extend((_dotted(target), node.value) for target in node.targets)
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                named.append((_dotted(node.target), node.value))
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                stores[node.id] += 1
            elif isinstance(node, ast.arg):
                stores[node.arg] += 1
        # A module-level constant (CA_BUNDLE = "/etc/pki/corp.pem") is read through its name if nothing
        # else in the file, no other assignment and no parameter, binds that name.
        self.constants = {target.id: statement.value for statement in tree.body
                          if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Constant)
                          for target in statement.targets if isinstance(target, ast.Name) and stores[target.id] == 1}
        # A second pass lets `s = boto3.Session()` be seen before `t = s`, whatever their order.
        for _ in range(2):
            for name, value in named:
                meaning = self.qualify(value)
                if name and meaning:
                    self.bound[name] = meaning

    def qualify(self, node: ast.AST) -> Optional[str]:
        """'boto3.client', 'boto3.session.Session()' (a session), … or None for what is not known."""
        if isinstance(node, ast.Name):
            return self.bound.get(node.id)
        if isinstance(node, ast.Attribute):
            dotted = _dotted(node)
            if dotted in self.bound:
                return self.bound[dotted]
            base = self.qualify(node.value)
            return f"{base}.{node.attr}" if base else None
        if isinstance(node, ast.Call):
            factory = self.qualify(node.func)
            return f"{factory}()" if factory in _SESSION_FACTORIES else None
        return None

    def settings(self) -> Iterator[Setting]:
        for call in self.calls:
            yield from self._client_call(call)
            if call.args and _is_bundle_variable(call.args[0]) and self.qualify(call.func) == "os.environ.setdefault":
                yield from self._bundle_variable(call, call.args[1:2])
        for assignment in self.assignments:
            for target in assignment.targets:
                if (isinstance(target, ast.Subscript) and _is_bundle_variable(target.slice)
                        and self.qualify(target.value) == "os.environ"):
                    yield from self._bundle_variable(assignment, [assignment.value])

    def _client_call(self, call: ast.Call) -> Iterator[Setting]:
        value = _verify_argument(call)
        factory = self._factory(call.func) if value is not None else None
        if factory is None:
            return
        judged = self._judge(value)
        if judged:
            extra = {"call": factory}
            if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
                extra["service"] = call.args[0].value
            yield Setting(call.lineno, "verify", *judged, self._statement(call), extra)

    def _factory(self, func: ast.expr) -> Optional[str]:
        """The client factory a call reaches ('boto3.client', 'boto3.Session().resource'), else None."""
        target = self.qualify(func)
        if target in _CLIENT_FACTORIES:
            return target
        if not isinstance(func, ast.Attribute) or func.attr not in _SESSION_METHODS:
            return None
        base = self.qualify(func.value)
        if base is not None:
            return target if base.endswith("()") and base[:-2] in _SESSION_FACTORIES else None
        return self._segment(func) if self.imports_sdk else None

    def _judge(self, node: ast.expr) -> Optional[tuple[str, Optional[str]]]:
        """(effect, value) of a verify argument; None when it keeps the default store."""
        if isinstance(node, ast.Name) and node.id in self.constants:
            node = self.constants[node.id]
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, str) and value:
                return "custom-bundle", value
            # botocore tests the value's truth: False, 0 and "" all turn validation off
            return ("disabled", repr(value)) if not value and value is not None else None
        if isinstance(node, ast.Call) and self.qualify(node.func) == "certifi.where":
            return None  # the store botocore uses by default
        if isinstance(node, ast.JoinedStr):
            return "custom-bundle", self._segment(node)
        return "unknown", self._segment(node)

    def _bundle_variable(self, node: ast.expr | ast.stmt, values: list[ast.expr]) -> Iterator[Setting]:
        if not values:
            return
        judged = self._judge(values[0])
        if judged and judged[0] != "disabled":
            # Whatever the code computes, the variable names a bundle file.
            yield Setting(node.lineno, "AWS_CA_BUNDLE", "custom-bundle", judged[1], self._statement(node), {"call": "os.environ"})

    def _statement(self, node: ast.expr | ast.stmt) -> str:
        return _one_line(self._segment(node))

    def _segment(self, node: ast.expr | ast.stmt) -> str:
        """The node's source text (ast.get_source_segment, without splitting the file again for every node)."""
        if self.lines is None:
            self.lines = [line.encode() for line in _LINE_END.split(self.text)]
        first, last = node.lineno - 1, node.end_lineno - 1
        if first == last:
            return self.lines[first][node.col_offset:node.end_col_offset].decode(errors="replace")
        parts = [self.lines[first][node.col_offset:], *self.lines[first + 1:last],
                 self.lines[last][:node.end_col_offset]]
        return b"\n".join(parts).decode(errors="replace")


def _dotted(node: ast.AST) -> Optional[str]:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _verify_argument(call: ast.Call) -> Optional[ast.expr]:
    for keyword in call.keywords:
        if keyword.arg == "verify":
            return keyword.value
    leading = call.args[:_VERIFY_POSITION + 1]
    if len(leading) > _VERIFY_POSITION and not any(isinstance(a, ast.Starred) for a in leading):
        return leading[_VERIFY_POSITION]
    return None


def _is_bundle_variable(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value == "AWS_CA_BUNDLE"


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _STATEMENT_CHARS else text[:_STATEMENT_CHARS - 1] + "…"


# -- scripts ---------------------------------------------------------------------

# `aws` as a command: after a separator or quote (sh 'aws …'), a make prefix (@-+), or a path
_AWS = re.compile(r"""(?:^|(?<=[\s;&|(`'"]))[@+-]*(?:[\w.~/-]*/)?aws(?:\.exe)?(?![\w./-])""")
_COMMAND_END = re.compile(r"[;&|]")
_VALUE = r"""("[^"]*"|'[^']*'|\$\{\{[^}]*\}\}|[^\s'"]+)"""
_NO_VERIFY = re.compile(r"(?<![\w-])--no-verify-ssl(?![\w-])")
_CA_BUNDLE = re.compile(r"(?<![\w-])--ca-bundle(?:=|\s+)" + _VALUE)
_CONFIGURE = re.compile(r"\bconfigure\s+set\s+(?:[\w.-]+\.)?ca_bundle\s+" + _VALUE)
# export X=v, X=v cmd, ENV X=v, X := v (make), X: v (YAML), $env:X = v (PowerShell); not $X or ${X}
_ASSIGN = re.compile(r"(?<![\w${])AWS_CA_BUNDLE(?:\s*[:?]?=\s*|:\s+)" + _VALUE)
_DOCKER_ENV = re.compile(r"^\s*ENV\s+AWS_CA_BUNDLE\s+" + _VALUE)


def script_settings(data: bytes, label: str) -> list[Setting]:
    """The settings a script writes; only files that mention one of them are read line by line."""
    if not any(word in data for word in (b"--no-verify-ssl", b"--ca-bundle", b"ca_bundle", b"AWS_CA_BUNDLE")):
        return []
    continuation = "`" if label == "PowerShell script" else "\\"
    found: list[Setting] = []
    logical, starts = "", []  # starts: (offset in the logical line, line number) of each physical line
    for number, raw in enumerate(data.decode("utf-8", "replace").split("\n"), 1):
        line = _strip_comment(raw).rstrip()
        if not logical:
            starts = []
        starts.append((len(logical), number))
        if line.endswith(continuation):
            logical += line[:-1] + " "
            continue
        found.extend(_command_settings(logical + line, starts))
        logical = ""
    if logical:
        found.extend(_command_settings(logical, starts))
    return found


def _command_settings(logical: str, starts: list[tuple[int, int]]) -> Iterator[Setting]:
    offsets = [offset for offset, _ in starts]

    def line_of(position: int) -> int:
        return starts[bisect.bisect_right(offsets, position) - 1][1]

    for command in _AWS.finditer(logical):
        end = _COMMAND_END.search(logical, command.end())
        text = logical[command.start():end.start() if end else len(logical)]
        statement = _one_line(text.lstrip("@+-"))
        line = line_of(command.start())
        if _NO_VERIFY.search(text):
            yield Setting(line, "--no-verify-ssl", "disabled", None, statement, {})
        for match in _CA_BUNDLE.finditer(text):
            yield Setting(line, "--ca-bundle", "custom-bundle", _unquote(match.group(1)), statement, {})
        for match in _CONFIGURE.finditer(text):
            yield Setting(line, "ca_bundle", "custom-bundle", _unquote(match.group(1)), statement, {})
    for match in [*_ASSIGN.finditer(logical), *_DOCKER_ENV.finditer(logical)]:
        value = _unquote(match.group(1))
        if value:
            yield Setting(line_of(match.start()), "AWS_CA_BUNDLE", "custom-bundle", value, _one_line(logical), {})


def _strip_comment(line: str) -> str:
    """The line without its comment: `#` at the start of a word outside quotes, or a line starting with //."""
    if line.lstrip().startswith("//"):
        return ""
    quote = ""
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index]
    return line


def _unquote(value: str) -> str:
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"" else value
