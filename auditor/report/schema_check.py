"""The report schema compiled once into plain Python checks, for reading many saved reports fast.

jsonschema walks the schema anew for every value it checks, which made checking a saved report take most of the time
of reading it; `auditor report merge` checks every host's report. This compiles the keywords report.schema.json uses
into nested functions that answer one question, valid or not. The message for a report that is not valid is still
jsonschema's own (auditor.report.saved asks it then), so the compiled check only has to agree with it on validity:
tests/test_saved_reports.py holds the two to that on edited reports. A keyword this module does not know is refused
when the schema is compiled, never skipped.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Optional

Check = Callable[[Any], bool]

# Keywords that only describe: they constrain nothing.
_ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "$defs", "title", "description", "examples", "default"})
_KNOWN = _ANNOTATIONS | {"type", "enum", "const", "required", "properties", "patternProperties", "additionalProperties",
                         "items", "minItems", "minimum", "pattern", "oneOf", "$ref"}


# An object of this many members or more is checked by its plan (see _Compiler._object), a smaller one member by member.
_PLANNED = 6


class SchemaNotSupported(ValueError):
    """The schema uses a keyword (or a form of one) that compile_schema does not implement."""


def compile_schema(schema: dict[str, Any]) -> Check:
    """A function that tells whether a JSON value (as json.loads returns it) is valid against `schema`, a JSON
    Schema 2020-12 document that uses only the keywords above; references are local ("#/$defs/…")."""
    return _Compiler(schema).compile(schema)


def _is_integer(value: object) -> bool:
    # JSON Schema's integer is a number with no fraction: 1.0 is one; a boolean is not a number.
    return (type(value) is int) or (type(value) is float and value.is_integer())


def _is_number(value: object) -> bool:
    return type(value) is int or type(value) is float


_TYPES: dict[str, Check] = {
    "object": lambda value: type(value) is dict,
    "array": lambda value: type(value) is list,
    "string": lambda value: type(value) is str,
    "integer": _is_integer,
    "number": _is_number,
    "boolean": lambda value: type(value) is bool,
    "null": lambda value: value is None,
}


# The JSON types that one Python type each stands for exactly (integer and number are not: 1.0 is an integer).
_EXACT = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}


def _exact_types(names: list[Any]) -> frozenset[type] | None:
    """The Python types of a list of JSON types, where each is exact; None where one is not (or is not a name)."""
    if not all(isinstance(name, str) and name in _EXACT for name in names):
        if not all(isinstance(name, str) and name in _TYPES for name in names):
            raise SchemaNotSupported(f"type {names!r}")
        return None
    return frozenset(_EXACT[name] for name in names)


def _equal(one: object, two: object) -> bool:
    """JSON equality, as jsonschema judges enum and const: true is not 1, 1 is 1.0, containers compared item by item."""
    if type(one) is bool or type(two) is bool:
        return type(one) is type(two) and one == two
    if isinstance(one, dict) and isinstance(two, dict):
        return one.keys() == two.keys() and all(_equal(one[key], two[key]) for key in one)
    if isinstance(one, list) and isinstance(two, list):
        return len(one) == len(two) and all(_equal(a, b) for a, b in zip(one, two))
    if isinstance(one, (dict, list)) or isinstance(two, (dict, list)):
        return False
    return one == two


class _Compiler:
    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self.references: dict[str, Check] = {}
        self.compiled: set[str] = set()  # the references whose check is made (not still being made)

    def compile(self, schema: object) -> Check:
        if schema is True or schema == {}:
            return _accept
        if schema is False:
            return _reject
        if not isinstance(schema, dict):
            raise SchemaNotSupported(f"a schema is an object or a boolean, not {schema!r}")
        unknown = sorted(set(schema) - _KNOWN)
        if unknown:
            raise SchemaNotSupported(f"keywords not implemented: {', '.join(unknown)}")
        checks: list[Check] = []
        if "$ref" in schema:
            checks.append(self._reference(schema["$ref"]))
        kind = schema.get("type")
        objects = schema.keys() & {"required", "properties", "patternProperties", "additionalProperties"}
        arrays = schema.keys() & {"items", "minItems"}
        if kind == "object" and objects:  # the common case, in one function: the type, then the members
            checks.append(self._object(schema, typed=True))
        elif kind == "array" and arrays:
            checks.append(self._array(schema, typed=True))
        else:
            if kind is not None and not (kind == "string" and "pattern" in schema):  # a string's: with its pattern
                checks.append(self._type(kind))
            if objects:
                checks.append(self._object(schema, typed=False))
            if arrays:
                checks.append(self._array(schema, typed=False))
        if "enum" in schema:
            checks.append(self._enum(schema["enum"]))
        if "const" in schema:
            constant = schema["const"]
            checks.append(lambda value: _equal(value, constant))
        if "oneOf" in schema:
            choices = [self.compile(choice) for choice in schema["oneOf"]]
            checks.append(lambda value: sum(1 for choice in choices if choice(value)) == 1)
        if "minimum" in schema:
            least = schema["minimum"]
            checks.append(lambda value: not _is_number(value) or value >= least)
        if "pattern" in schema:
            search = re.compile(schema["pattern"]).search
            if kind == "string":
                checks.append(lambda value: type(value) is str and search(value) is not None)
            else:
                checks.append(lambda value: type(value) is not str or search(value) is not None)
        return _all(checks)

    def _reference(self, reference: str) -> Check:
        if not reference.startswith("#"):
            raise SchemaNotSupported(f"only local references are implemented, not {reference}")
        if reference not in self.references:
            # Compiled on first use, and looked up when called, so that a schema that refers to itself still compiles.
            self.references[reference] = lambda value: True
            target: Any = self.root
            for part in reference[1:].split("/")[1:]:
                target = target[part.replace("~1", "/").replace("~0", "~")]
            self.references[reference] = self.compile(target)
            self.compiled.add(reference)
        if reference in self.compiled:  # called as it is: one call fewer per value
            return self.references[reference]
        references = self.references
        return lambda value: references[reference](value)

    def _type(self, names: object) -> Check:
        if isinstance(names, str):
            return _TYPES[names]
        if isinstance(names, list):
            exact = _exact_types(names)
            if exact is not None:
                return lambda value: type(value) in exact
            checks = [_TYPES[name] for name in names]
            return lambda value: any(check(value) for check in checks)
        raise SchemaNotSupported(f"type {names!r}")

    def _enum(self, choices: list[Any]) -> Check:
        if all(type(choice) is str for choice in choices):
            strings = frozenset(choices)
            return lambda value: type(value) is str and value in strings
        return lambda value: any(_equal(value, choice) for choice in choices)

    def _object(self, schema: dict[str, Any], typed: bool) -> Check:
        """The object's members; with `typed`, also that it is an object (else any other value passes)."""
        required = tuple(schema.get("required", ()))
        properties = {name: self.compile(sub) for name, sub in schema.get("properties", {}).items()}
        patterns = [(re.compile(pattern).search, self.compile(sub))
                    for pattern, sub in schema.get("patternProperties", {}).items()]
        additional_schema = schema.get("additionalProperties", True)
        additional: Check = self.compile(additional_schema)

        if not patterns:  # each member checked by its property's schema, or else by additionalProperties
            # A member whose schema is only a type (most of them: a string) or only an enum of strings is checked here,
            # by a look-up rather than a call; one that additionalProperties leaves free is not looked at.
            inline: dict[str, frozenset[Any]] = {}
            for name, sub in schema.get("properties", {}).items():
                if isinstance(sub, dict) and not sub.keys() - _ANNOTATIONS - {"type"} and "type" in sub:
                    exact = _exact_types(sub["type"] if isinstance(sub["type"], list) else [sub["type"]])
                    if exact is not None:
                        inline[name] = exact
            enums = {name: frozenset(sub["enum"]) for name, sub in schema.get("properties", {}).items()
                     if isinstance(sub, dict) and not sub.keys() - _ANNOTATIONS - {"enum"} and "enum" in sub
                     and all(type(choice) is str for choice in sub["enum"])}
            others = {name: check for name, check in properties.items() if name not in inline and name not in enums}
            free = additional is _accept
            needed = frozenset(required)
            # What an object's keys and its members' types leave to check, worked out once per distinct pair (a
            # report's items of one kind share a few): None where they already make it invalid, else the members
            # whose values are still to be checked, each with its check. Found by tuples made in C, not a loop.
            plans: dict[tuple[tuple[str, ...], tuple[type, ...]], Optional[tuple[tuple[str, Check], ...]]] = {}

            def plan(names: tuple[str, ...], kinds: tuple[type, ...]) -> Optional[tuple[tuple[str, Check], ...]]:
                if not needed <= set(names):
                    return None
                left: list[tuple[str, Check]] = []
                for name, kind in zip(names, kinds):
                    allowed = inline.get(name)
                    if allowed is not None:
                        if kind not in allowed:
                            return None
                        continue
                    choices = enums.get(name)
                    if choices is not None:
                        if kind is not str:
                            return None
                        left.append((name, choices.__contains__))
                        continue
                    sub = others.get(name)
                    if sub is not None:
                        left.append((name, sub))
                    elif not free:
                        left.append((name, additional))
                return tuple(left)

            def simple(value: Any) -> bool:
                if type(value) is not dict:
                    return not typed
                if len(value) < _PLANNED:  # a loop over a few members costs less than making the plan's key
                    for name in required:
                        if name not in value:
                            return False
                    for name, item in value.items():
                        kinds = inline.get(name)
                        if kinds is not None:
                            if type(item) not in kinds:
                                return False
                            continue
                        choices = enums.get(name)
                        if choices is not None:
                            if type(item) is not str or item not in choices:
                                return False
                            continue
                        sub = others.get(name)
                        if sub is not None:
                            if not sub(item):
                                return False
                        elif not free and not additional(item):
                            return False
                    return True
                key = (tuple(value), tuple(map(type, value.values())))
                try:
                    left = plans[key]
                except KeyError:
                    left = plan(*key)
                    if len(plans) < 4096:
                        plans[key] = left
                if left is None:
                    return False
                for name, sub in left:
                    if not sub(value[name]):
                        return False
                return True

            return simple

        def check(value: Any) -> bool:
            if type(value) is not dict:
                return not typed
            for name in required:
                if name not in value:
                    return False
            for name, item in value.items():
                sub = properties.get(name)
                known = sub is not None
                if sub is not None and not sub(item):
                    return False
                for search, pattern_check in patterns:
                    if search(name) is not None:
                        known = True
                        if not pattern_check(item):
                            return False
                if not known and not additional(item):
                    return False
            return True

        return check

    def _array(self, schema: dict[str, Any], typed: bool) -> Check:
        least = schema.get("minItems", 0)
        items = self.compile(schema.get("items", True))
        sub = schema.get("items")
        if isinstance(sub, dict) and "type" in sub and not sub.keys() - _ANNOTATIONS - {"type"}:
            exact = _exact_types(sub["type"] if isinstance(sub["type"], list) else [sub["type"]])
            if exact is not None:  # items of one exact type (a list of strings): their types' set, made in C
                def typed_items(value: Any) -> bool:
                    if type(value) is not list:
                        return not typed
                    return len(value) >= least and set(map(type, value)) <= exact

                return typed_items

        def check(value: Any) -> bool:
            if type(value) is not list:
                return not typed
            if len(value) < least:
                return False
            for item in value:
                if not items(item):
                    return False
            return True

        return check


def _accept(value: Any) -> bool:
    return True


def _reject(value: Any) -> bool:
    return False


def _all(checks: list[Check]) -> Check:
    if not checks:
        return _accept
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda value: first(value) and second(value)
    return lambda value: all(check(value) for check in checks)
