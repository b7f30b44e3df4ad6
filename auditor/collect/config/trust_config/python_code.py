"""Trust settings in Python code, found with `ast`: nothing is imported or run."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections import Counter
from typing import Iterator, Optional

from auditor.collect.config.trust_config import PYTHON
from auditor.collect.config.trust_config.setting import Setting, one_line
from auditor.collect.python.python_ast import dotted
from auditor.model import ScanError
from auditor.records import field, mutable_record

_SDK_MODULES = ("boto3", "botocore", "aioboto3", "aiobotocore")
_SESSION_FACTORIES = frozenset({
    "boto3.Session", "boto3.session.Session", "botocore.session.Session", "botocore.session.get_session",
    "aioboto3.Session", "aioboto3.session.Session", "aiobotocore.session.AioSession", "aiobotocore.session.get_session",
})
_CLIENT_FACTORIES = frozenset({"boto3.client", "boto3.resource"})
_SESSION_METHODS = frozenset({"client", "resource", "create_client"})
# (service_name, region_name, api_version, use_ssl, verify, …) in every factory above
_VERIFY_POSITION = 4
_LINE_END = re.compile(r"\r\n|\r|\n")  # what ends a line for ast (str.splitlines also splits on \f and others)
# For a file that does not parse (Python 2): a client factory call and, after it, a literal verify on one line.
# Two searches and a walk back over the receiver (session.client): one regular expression spanning both would
# rescan the line from every call or name, quadratic in a long line.
_CALL_LINE = re.compile(r"\b(client|resource|create_client)\s*\(")
_VERIFY_VALUE = re.compile(r"""\bverify\s*=\s*(False\b|"[^"]+"|'[^']+')""")


@mutable_record
class CodeSettings:
    settings: list[Setting]
    how: str  # how they were found: PYTHON, or "python line search" for a file ast cannot read (an error entry says why)
    errors: list[ScanError] = field(default_factory=list)


def python_settings(data: bytes, where: str) -> CodeSettings:
    """The settings in one Python file, how they were found, and the error entries.

    A file is parsed only if its bytes mention both `verify` and `boto` (every SDK module
    name holds it), or AWS_CA_BUNDLE: most files of a large tree are skipped unparsed.
    """
    errors: list[ScanError] = []
    settings, how = _python_settings(data, where, errors)
    return CodeSettings(settings, how, errors)


def _python_settings(data: bytes, where: str, errors: list[ScanError]) -> tuple[list[Setting], str]:
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
    try:
        return list(_Module(tree, text).settings()), PYTHON
    except RecursionError:  # ast.parse takes an attribute chain (a.b.c…) deeper than the recursive name resolution
        errors.append(ScanError(where, "nests too deeply to be resolved (RecursionError); searched line by line for "
                                       "verify= in SDK client calls instead"))
        return list(_line_search(text)), "python line search"


def _line_search(text: str) -> Iterator[Setting]:
    for number, line in enumerate(text.split("\n"), 1):
        code = line.split("#", 1)[0]
        call = _CALL_LINE.search(code)
        verify = _VERIFY_VALUE.search(code, call.end()) if call else None
        if call and verify:
            receiver = call.start()
            while receiver and (code[receiver - 1].isalnum() or code[receiver - 1] in "._"):  # what [\w.] matches
                receiver -= 1
            value = verify.group(1)
            effect = "disabled" if value == "False" else "custom-bundle"
            callee = code[receiver:call.end(1)]
            skipped = "…, " if code[call.end():verify.start()].strip() else ""
            yield Setting(number, "verify", effect, value.strip("'\""), one_line(f"{callee}({skipped}{verify.group(0)})"),
                          one_line(callee))


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
        self.dotted_names: dict[ast.AST, Optional[str]] = {}
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
                named.extend((dotted(target), node.value) for target in node.targets)
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                named.append((dotted(node.target), node.value))
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
            dotted = self.dotted(node)
            if dotted in self.bound:
                return self.bound[dotted]
            base = self.qualify(node.value)
            return f"{base}.{node.attr}" if base else None
        if isinstance(node, ast.Call):
            factory = self.qualify(node.func)
            return f"{factory}()" if factory in _SESSION_FACTORIES else None
        return None

    def dotted(self, node: ast.AST) -> Optional[str]:
        """dotted(node), each level of a chain a.b.c… computed once: qualify asks at every level."""
        if node not in self.dotted_names:
            if isinstance(node, ast.Attribute):
                base = self.dotted(node.value)
                self.dotted_names[node] = f"{base}.{node.attr}" if base else None
            else:
                self.dotted_names[node] = node.id if isinstance(node, ast.Name) else None
        return self.dotted_names[node]

    def settings(self) -> Iterator[Setting]:
        for call in self.calls:
            yield from self._client_call(call)
            if call.args and _is_bundle_variable(call.args[0]) and self.qualify(call.func) == "os.environ.setdefault":
                yield from self._bundle_variable(call, call.args[1:2], call.func)
        for assignment in self.assignments:
            for target in assignment.targets:
                if (isinstance(target, ast.Subscript) and _is_bundle_variable(target.slice)
                        and self.qualify(target.value) == "os.environ"):
                    yield from self._bundle_variable(assignment, [assignment.value], target)

    def _client_call(self, call: ast.Call) -> Iterator[Setting]:
        value = _verify_argument(call)
        factory = self._factory(call.func) if value is not None else None
        if value is None or factory is None:
            return
        judged = self._judge(value)
        if judged:
            service = None
            if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
                service = call.args[0].value
            yield Setting(call.lineno, "verify", *judged, self._call_statement(call), factory, service)

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
        # The receiver is an expression (make_session(key=…).client): its arguments are not the call's name.
        return (self.dotted(func) or f"(…).{func.attr}") if self.imports_sdk else None

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

    def _bundle_variable(self, node: ast.expr | ast.stmt, values: list[ast.expr], where: ast.expr) -> Iterator[Setting]:
        if not values:
            return
        judged = self._judge(values[0])
        if judged and judged[0] != "disabled":
            # Whatever the code computes, the variable names a bundle file.
            written, value = self._segment(where), self._segment(values[0])
            statement = f"{written} = {value}" if isinstance(where, ast.Subscript) else f"{written}('AWS_CA_BUNDLE', {value})"
            yield Setting(node.lineno, "AWS_CA_BUNDLE", "custom-bundle", judged[1], one_line(statement), "os.environ")

    def _call_statement(self, call: ast.Call) -> str:
        """`boto3.client("s3", …, verify=False)`: the factory, the service and the verify argument; the other
        arguments are left out, as they may hold credentials (aws_secret_access_key, a proxy's password)."""
        callee = self.dotted(call.func) or self._factory(call.func) or "(…)"
        position = len(call.args) > _VERIFY_POSITION and not any(k.arg == "verify" for k in call.keywords)
        if position:  # service_name, region_name, api_version, use_ssl, verify: none of them a credential
            shown = [self._segment(argument) for argument in call.args[:_VERIFY_POSITION + 1]]
            more = len(call.args) > _VERIFY_POSITION + 1 or bool(call.keywords)
        else:
            service = call.args[:1] if call.args and isinstance(call.args[0], ast.Constant) else []
            shown = [self._segment(argument) for argument in service]
            more = len(call.args) > len(service) or len(call.keywords) > 1
            if more:
                shown.append("…")
            verify = next(keyword for keyword in call.keywords if keyword.arg == "verify")
            shown.append(f"verify={self._segment(verify.value)}")
            more = False
        return one_line(f"{callee}({', '.join(shown + (['…'] if more else []))})")

    def _segment(self, node: ast.expr | ast.stmt) -> str:
        """The node's source text (ast.get_source_segment, without splitting the file again for every node)."""
        if self.lines is None:
            self.lines = [line.encode() for line in _LINE_END.split(self.text)]
        first, last = node.lineno - 1, (node.end_lineno or node.lineno) - 1  # a parsed node has both
        if first == last:
            return self.lines[first][node.col_offset:node.end_col_offset].decode(errors="replace")
        parts = [self.lines[first][node.col_offset:], *self.lines[first + 1:last],
                 self.lines[last][:node.end_col_offset]]
        return b"\n".join(parts).decode(errors="replace")


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
