"""setup.py, read with `ast` and never run: the install_requires, extras_require, tests_require and setup_requires
keywords of its setup() calls (setuptools' or distutils', under any name they are imported as).

A keyword is judged when its value is written as literals: strings (one requirement a line), lists, tuples, dicts
(and dict(...) of keywords), `+` of them, `**` of such a dict, and names bound to them, with what .append(),
.extend(), .insert(), += and d["key"] = … add (a requirement added in one branch of an `if` is still declared, as
one behind a marker is). A part computed at run time (a file read, a comprehension, a call) cannot be judged without
running setup.py: it is an error entry at its line saying so and how to make it judgeable; the literal parts around
it are still read. A setup.py of Python 2 (print statements, `except E, e`) is read statement by statement; a
statement that does not parse and may change the requirements is an error entry.
"""

from __future__ import annotations

import ast
import io
import re
import textwrap
import tokenize
import warnings
from typing import Optional

from auditor.collect.python.lockfiles import Pin, Pins, text_of
from auditor.collect.python.lockfiles.declared import Reading
from auditor.fs import FsError, View
from auditor.collect.python.python_ast import dotted
from auditor.records import record

KEYWORDS = ("install_requires", "extras_require", "tests_require", "setup_requires")
SETUP_CAP = 2 * 1024 * 1024  # as for any Python source a scan reads (auditor.collect.config.trust_config)
MAX_DEPTH = 100  # names bound to names bound to names…: far past any real setup.py
MAX_BLOCK_DEPTH = 4  # nested blocks searched again, one level in, when a Python 2 block does not parse
HOW = ("write it as a literal list in setup.py, or declare the requirements in setup.cfg [options] or pyproject.toml "
       "[project], to make it judgeable")
_MUTATORS = frozenset({"remove", "pop", "popitem", "clear", "update", "setdefault", "__setitem__", "__delitem__",
                       "__iadd__"})
_CLAUSE_KEYWORDS = frozenset({"else", "elif", "except", "finally"})
_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # where Python's tokenizer ends a line (not at \f, \v or U+2028)
_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


@record
class Computed:
    """A part of a value that only running setup.py would give."""

    line: Optional[int]
    why: str


Problems = dict  # Computed -> None: an ordered set, each problem once

def parse(view: View, path: str, watched: set[str]) -> Pins:
    reading = Reading(view, path, watched)
    return Pins(_pins(reading), reading.errors)


def _pins(reading: Reading) -> list[Pin]:
    try:
        data = reading.view.read_bytes(reading.path, SETUP_CAP)
    except FsError as exc:
        reading.error(None, str(exc))
        return []
    try:
        encoding = tokenize.detect_encoding(io.BytesIO(data).readline)[0]
        text = data.decode(encoding)
    except (SyntaxError, UnicodeDecodeError, LookupError) as exc:
        reading.error(None, f"cannot decode the source ({exc}); its requirements are not judged")
        return []
    skipped: list[tuple[int, str, str]] = []
    try:
        tree = _parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        tree = ast.Module(body=_by_statement(text, 0, 0, skipped), type_ignores=[])
    try:
        module = _Module(tree)
        pins = module.pins(reading)
    except RecursionError:  # an expression nested deeper than the walk over it
        reading.error(None, "nests too deeply to be read (RecursionError); its requirements are not judged")
        return []
    relevant = re.compile(r"\b(?:%s)\b" % "|".join(map(re.escape, sorted({*KEYWORDS, *module.setup_names, *module.used}))))
    for line, reason, chunk in skipped:
        if relevant.search(chunk):
            reading.error(line, f"does not parse as Python 3 ({reason}) and may change the requirements; not read")
    if not module.calls and re.search(r"\b(?:%s)\b" % "|".join(KEYWORDS), text):
        reading.error(None, "names install_requires or another requirements keyword, but not in a setup() call this "
                            "reader can follow; not judged")
    return pins


def _parse(text: str) -> ast.Module:
    # The target's code is not ours to warn about: 2013's '\d' in a regular expression is a SyntaxWarning on
    # stderr from Python 3.12 on.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(text)


# -- Python 2: statement by statement -------------------------------------------------------------------------

def _by_statement(text: str, offset: int, depth: int, skipped: list) -> list[ast.stmt]:
    """The statements of `text` that parse, at their lines (+ offset); the others in `skipped` as (line, reason,
    text). A block that does not parse is searched again one level in, its headers (if …:, else:) left out."""
    lines = _LINES.findall(text)
    starts = _statement_starts(text) + [len(lines) + 1]
    body: list[ast.stmt] = []
    for first, after in zip(starts, starts[1:]):
        chunk = "".join(lines[first - 1:after - 1])
        try:
            tree = _parse(chunk)
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            inner = "".join(line if line[:1].isspace() else "\n" for line in _LINES.findall(chunk))
            if depth < MAX_BLOCK_DEPTH and _is_block(chunk) and inner.strip():
                body += _by_statement(textwrap.dedent(inner), offset + first - 1, depth + 1, skipped)
                continue
            reason = f"line {offset + first - 1 + exc.lineno}: {exc.msg}" if isinstance(exc, SyntaxError) and exc.lineno \
                else type(exc).__name__
            skipped.append((offset + first, reason, chunk))
            continue
        ast.increment_lineno(tree, offset + first - 1)
        body += tree.body
    return body


def _is_block(chunk: str) -> bool:
    first = chunk.lstrip().split("\n", 1)[0]
    return bool(re.match(r"(?:if|for|while|with|try|def|class|else|elif)\b.*:\s*(?:#.*)?$", first))


def _statement_starts(text: str) -> list[int]:
    """The lines where top-level statements start (an else:/except: clause continues its statement)."""
    starts, logical_start = [1], True
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            kind, string, (row, column) = token.type, token.string, token.start
            if kind in (tokenize.NEWLINE, tokenize.NL):
                logical_start = kind == tokenize.NEWLINE or logical_start
                continue
            if kind in (tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING, tokenize.ENDMARKER):
                continue
            if logical_start and column == 0 and string not in _CLAUSE_KEYWORDS and row > starts[-1]:
                starts.append(row)
            logical_start = False
    except (tokenize.TokenError, SyntaxError):  # IndentationError is a SyntaxError; the rest is one chunk
        pass
    return starts


# -- the module's names and setup() calls ------------------------------------------------------------------------

def _written(node: ast.AST) -> Optional[str]:
    """A call chain as written, arguments left out: open().read().splitlines."""
    if isinstance(node, ast.Call):
        inner = _written(node.func)
        return f"{inner}()" if inner else None
    if isinstance(node, ast.Attribute):
        inner = _written(node.value)
        return f"{inner}.{node.attr}" if inner else None
    return node.id if isinstance(node, ast.Name) else None


def _describe(node: ast.AST) -> str:
    if isinstance(node, ast.Call):
        name = _written(node)
        return f"a call to {name}" if name else "a call"
    if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
        return "a comprehension"
    if isinstance(node, ast.Name):
        return f"the name {node.id}, which is not bound to a literal here"
    if isinstance(node, ast.JoinedStr):
        return "an f-string"
    if isinstance(node, ast.IfExp):
        return "a conditional expression"
    if isinstance(node, ast.Subscript):
        return "an indexing expression"
    if isinstance(node, ast.Attribute):
        return f"the attribute {dotted(node) or node.attr}"
    if isinstance(node, ast.Constant):
        return f"a {type(node.value).__name__} where requirements are expected"
    return f"an expression ({type(node).__name__})"


class _Module:
    def __init__(self, tree: ast.Module):
        self.bound: dict[str, list[ast.expr]] = {}  # name = value, wherever written
        self.added: dict[str, list[ast.expr]] = {}  # name.append(x) / .insert(i, x) (as [x]), .extend(x), += x
        self.keys: dict[str, list[tuple[ast.Constant, ast.expr]]] = {}  # name[key] = value
        self.changed: dict[str, ast.AST] = {}  # any other write: del, a loop variable, an import, .remove()
        self.setup_names = {"setup"}
        self.setup_modules = {"setuptools", "distutils"}
        self.calls: list[ast.Call] = []
        self.used: set[str] = set()  # names a keyword's value was resolved through
        self._resolving: set[str] = set()  # names being followed now
        self._cache: dict[str, tuple[dict, Problems]] = {}
        self._cycles = 0
        self._collect(tree)

    def _collect(self, tree: ast.Module) -> None:
        handled: set[int] = set()  # Name nodes already understood as the target of an assignment
        for node in ast.walk(tree):
            if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Delete)):
                self._assignment(node, handled)
            elif isinstance(node, ast.Call):
                self._call(node)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                self._import(node)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.changed.setdefault(node.name, node)
            elif isinstance(node, ast.ExceptHandler) and node.name:
                self.changed.setdefault(node.name, node)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)) and id(node) not in handled:
                self.changed.setdefault(node.id, node)

    def _assignment(self, node, handled: set[int]) -> None:
        if isinstance(node, ast.Delete):
            targets, value = node.targets, None
        elif isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        else:
            targets, value = [node.target], node.value
        for target in targets:
            if isinstance(node, ast.AugAssign):
                if isinstance(target, ast.Name) and isinstance(node.op, ast.Add) and value is not None:
                    self.added.setdefault(target.id, []).append(value)
                    handled.add(id(target))
            elif isinstance(target, ast.Name) and value is not None:
                self.bound.setdefault(target.id, []).append(value)
                handled.add(id(target))
            elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
                if value is not None and isinstance(target.slice, ast.Constant) and isinstance(target.slice.value, str):
                    self.keys.setdefault(target.value.id, []).append((target.slice, value))
                else:
                    self.changed.setdefault(target.value.id, node)

    def _call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            name = func.value.id
            if func.attr in ("append", "extend") and len(node.args) == 1 and not node.keywords:
                added = ast.List(elts=[node.args[0]], ctx=ast.Load()) if func.attr == "append" else node.args[0]
                self.added.setdefault(name, []).append(ast.copy_location(added, node.args[0]))
            elif func.attr == "insert" and len(node.args) == 2:
                self.added.setdefault(name, []).append(ast.copy_location(ast.List(elts=[node.args[1]], ctx=ast.Load()),
                                                                         node.args[1]))
            elif func.attr in _MUTATORS:
                self.changed.setdefault(name, node)
        called = dotted(func)
        if called in self.setup_names or (called and called.endswith(".setup")
                                          and called.split(".", 1)[0] in self.setup_modules):
            self.calls.append(node)

    def _import(self, node) -> None:
        for alias in node.names:
            bound = alias.asname or alias.name.split(".")[0]
            if isinstance(node, ast.ImportFrom) and alias.name == "setup":
                self.setup_names.add(bound)
            elif (alias.name if isinstance(node, ast.Import) else node.module or "") in ("setuptools", "distutils",
                                                                                        "distutils.core"):
                self.setup_modules.add(bound)  # import setuptools as st; from distutils import core
            else:
                self.changed.setdefault(bound, node)

    # -- values --------------------------------------------------------------------------------------------------
    # A value is followed through names, + and ** into the literals it is made of. Each literal is one entry, however
    # often it is reached (b = a + a; c = b + b; … would otherwise double at every line), and each name is followed
    # once: the work stays proportional to the file.

    def pins(self, reading: Reading) -> list[Pin]:
        pins: list[Pin] = []
        for call in self.calls:
            problems: Problems = {}
            keywords = [(k.arg, k.value) for k in call.keywords if k.arg in KEYWORDS]
            for spread in (k.value for k in call.keywords if k.arg is None):
                keywords += [(key, value) for key, value in self._mapping(spread, 0, problems).values() if key in KEYWORDS]
            for problem in problems:
                reading.error(problem.line, f"setup(**…) passes keywords computed at run time ({problem.why}): the "
                                            f"requirements may be among them and are not judged; {HOW}")
            for keyword, value in keywords:
                if keyword == "extras_require":
                    pins += self._extras(reading, value)
                else:
                    pins += self._pins(reading, value, keyword, f"{reading.filename} {keyword}", {})
        return pins

    def _extras(self, reading: Reading, node: ast.expr) -> list[Pin]:
        problems: Problems = {}
        pins: list[Pin] = []
        for extra, value in self._mapping(node, 0, problems).values():
            # setuptools reads "extra:marker" keys; ":marker" applies to every install
            name, _, marker = extra.partition(":")
            details = {"extra": name} if name else {}
            if marker:
                details["marker"] = marker.strip()
            pins += self._pins(reading, value, f"extras_require {extra!r}",
                               f"{reading.filename} extras_require {extra}", details)
        self._report(reading, "extras_require", problems)
        return pins

    def _pins(self, reading: Reading, node: ast.expr, what: str, source: str, details: dict) -> list[Pin]:
        problems: Problems = {}
        pins = []
        for requirement, line in self._requirements(node, 0, problems).values():
            pin = reading.requirement(requirement, line, source, details)
            if pin is not None:
                pins.append(pin)
        self._report(reading, what, problems)
        return pins

    @staticmethod
    def _report(reading: Reading, what: str, problems: Problems) -> None:
        for problem in problems:
            reading.error(problem.line, f"{what} is computed at run time ({problem.why}); it cannot be judged without "
                                        f"running setup.py: {HOW}")

    def _requirements(self, node: ast.expr, depth: int, problems: Problems) -> dict:
        """{(string node, line in it): (requirement, line)} of the literal requirements a value is made of; what is
        computed goes to `problems`."""
        if depth > MAX_DEPTH:
            problems[Computed(getattr(node, "lineno", None), "nested or named too deeply to follow")] = None
            return {}
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            spans = (getattr(node, "end_lineno", None) or node.lineno) > node.lineno  # a triple-quoted string
            return {(id(node), index): (line.strip(), node.lineno + (index if spans else 0))
                    for index, line in enumerate(_LINE_BREAK.split(text_of(node.value)))  # "\ud800" is not Unicode
                    if line.strip() and not line.strip().startswith("#")}
        if isinstance(node, ast.Constant) and node.value is None:
            return {}  # install_requires=None: none
        if isinstance(node, (ast.List, ast.Tuple, ast.Set, ast.BinOp)) and not (
                isinstance(node, ast.BinOp) and not isinstance(node.op, ast.Add)):
            parts = [node.left, node.right] if isinstance(node, ast.BinOp) else node.elts
            found: dict = {}
            for part in parts:
                found.update(self._requirements(part.value if isinstance(part, ast.Starred) else part, depth + 1, problems))
            return found
        if isinstance(node, ast.Name) and node.id in self.bound:
            return self._resolved(node, lambda value, local: self._requirements(value, depth + 1, local), problems)
        if isinstance(node, ast.Name):
            self.used.add(node.id)  # a Python 2 statement that was skipped may bind it
        problems[Computed(getattr(node, "lineno", None), _describe(node))] = None
        return {}

    def _mapping(self, node: ast.expr, depth: int, problems: Problems) -> dict:
        """{(key, value node): (key, value node)} of a dict written as literals: {…}, dict(k=v, …), a name bound to
        one, d["k"] = v."""
        if depth > MAX_DEPTH:
            problems[Computed(getattr(node, "lineno", None), "nested or named too deeply to follow")] = None
            return {}
        found: dict = {}
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if key is None:
                    found.update(self._mapping(value, depth + 1, problems))
                elif isinstance(key, ast.Constant) and isinstance(key.value, str):
                    found[(key.value, id(value))] = (key.value, value)
                else:
                    problems[Computed(key.lineno, f"a key computed at run time: {_describe(key)}")] = None
            return found
        if isinstance(node, ast.Call) and dotted(node.func) == "dict" and not node.args:
            for keyword in node.keywords:
                if keyword.arg is None:
                    found.update(self._mapping(keyword.value, depth + 1, problems))
                else:
                    found[(keyword.arg, id(keyword.value))] = (keyword.arg, keyword.value)
            return found
        if isinstance(node, ast.Name) and (node.id in self.bound or node.id in self.keys):
            found = self._resolved(node, lambda value, local: self._mapping(value, depth + 1, local), problems)
            found = dict(found)
            found.update({(key.value, id(value)): (key.value, value) for key, value in self.keys.get(node.id, ())})
            return found
        problems[Computed(getattr(node, "lineno", None), _describe(node))] = None
        return {}

    def _resolved(self, name: ast.Name, follow, problems: Problems) -> dict:
        """What `follow(value, problems)` gives for every value written to a name, its bindings and what is added to
        it, merged; once per name (a name met again while it is being followed, as in reqs = reqs + […], adds
        nothing more)."""
        if name.id in self._cache:
            cached, cached_problems = self._cache[name.id]
            problems.update(cached_problems)
            return cached
        if name.id in self._resolving:
            self._cycles += 1
            return {}
        self.used.add(name.id)
        self._resolving.add(name.id)
        cycles = self._cycles
        local: Problems = {}
        try:
            if name.id in self.changed:
                change = self.changed[name.id]
                local[Computed(getattr(change, "lineno", None),
                               f"{name.id} is also changed by a statement this reader does not follow")] = None
            found: dict = {}
            for value in [*self.bound.get(name.id, ()), *self.added.get(name.id, ())]:
                found.update(follow(value, local))
        finally:
            self._resolving.discard(name.id)
        if cycles == self._cycles:  # complete: not cut short by a cycle through a name being followed
            self._cache[name.id] = (found, local)
        problems.update(local)
        return found
