"""The report schema compiled once into plain Python checks, for reading many saved reports fast.

jsonschema walks the schema anew for every value it checks, which made checking a saved report take most of the time
of reading it; `auditor report merge` checks every host's report. This turns the keywords report.schema.json uses into
Python source, once, when the schema is compiled: the checks of an object's members and of an array's items written
out as plain statements in one function (an array of objects checks each object inside its own loop; only what is
nested deeper than Python's blocks may be, or referred to, or looked up by name in a large object, is a call), so that
checking a value makes few calls. The source is made from the schema alone (its property names, written as literals,
and names of constants it holds); nothing is generated or compiled while a value is checked, so no text of a checked
report ever becomes code. Texts that a pattern matched are remembered, as data, up to a bound. The message for a report that is not valid is still jsonschema's own (auditor.report.saved asks it then),
so the compiled check only has to agree with it on validity: tests/test_saved_reports.py holds the two to that on
edited reports and on small generated schemas. A keyword this module does not know is refused when the schema is
compiled, never skipped.
"""

from __future__ import annotations

import re
from typing import Any, Callable

Check = Callable[[Any], bool]

# Keywords that only describe: they constrain nothing.
_ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "$defs", "title", "description", "examples", "default"})
_KNOWN = _ANNOTATIONS | {"type", "enum", "const", "required", "properties", "patternProperties", "additionalProperties",
                         "items", "minItems", "minimum", "pattern", "oneOf", "$ref"}
_OBJECT_KEYWORDS = frozenset({"required", "properties", "patternProperties", "additionalProperties"})
_ARRAY_KEYWORDS = frozenset({"items", "minItems"})
# A schema of only these is checked by a condition written where it is used (a member's, an item's), not by a call.
_LEAF_KEYWORDS = _ANNOTATIONS | {"type", "enum", "const", "minimum", "pattern"}

# An object schema with more optional properties than this looks its members up in a table (one call each) rather than
# asking for each property in turn whether the object has it: a trust-store's details has over thirty, a few present.
_LOOKED_UP = 8

# How many texts that match a pattern are remembered, each pattern: a merge's reports share their dates.
_REMEMBERED = 4096

# How deep the checks of objects and arrays within objects and arrays are written out in one function, each a block
# (Python allows 20 nested); a deeper one is a call.
_NESTED = 12

# The JSON types that one Python type each stands for exactly (integer and number are not: 1.0 is an integer).
_EXACT = {"object": dict, "array": list, "string": str, "boolean": bool}
_TYPE_NAMES = frozenset(_EXACT) | {"null", "integer", "number"}


class SchemaNotSupported(ValueError):
    """The schema uses a keyword (or a form of one) that compile_schema does not implement."""


def compile_schema(schema: dict[str, Any]) -> Check:
    """A function that tells whether a JSON value (as json.loads returns it) is valid against `schema`, a JSON
    Schema 2020-12 document that uses only the keywords above; references are local ("#/$defs/…")."""
    source, namespace, root = generate(schema)
    exec(compile(source, "<compiled report schema>", "exec"), namespace)  # noqa: S102 - source made from the schema
    check: Check = namespace[root]
    return check


def generate(schema: dict[str, Any]) -> tuple[str, dict[str, Any], str]:
    """The Python source that checks `schema`, the constants it refers to by name, and the name of its function that
    checks a whole value."""
    generator = _Generator(schema)
    root = generator.function(schema)
    return "\n".join(generator.lines + generator.tables) + "\n", generator.namespace, root


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


def _in_enum(value: object, choices: tuple[Any, ...]) -> bool:
    return any(_equal(value, choice) for choice in choices)


def _compiled(pattern: object) -> re.Pattern[str]:
    if not isinstance(pattern, str):
        raise SchemaNotSupported(f"pattern {pattern!r}")
    return re.compile(pattern)


class _Matches:
    """Whether a pattern matches a text; each text that it matches is added to `matched`, until that holds _REMEMBERED."""

    def __init__(self, search: Callable[[str], object], matched: set[str]) -> None:
        self.search = search
        self.matched = matched

    def __call__(self, text: str) -> bool:
        if self.search(text) is None:
            return False
        if len(self.matched) < _REMEMBERED:
            self.matched.add(text)
        return True


def _indented(lines: list[str]) -> list[str]:
    return ["    " + line for line in lines]


def _is_trivial(schema: object) -> bool:
    """Accepts every value."""
    return schema is True or (isinstance(schema, dict) and not schema.keys() - _ANNOTATIONS)


class _Generator:
    """Writes the check of a schema as Python source: `expression` a condition on a local variable, `function` a def.
    Every name it writes is its own (K<n> a constant, f<n> a function, x<n> a local); the only text it copies from the
    schema is property names, as literals (repr)."""

    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self.lines: list[str] = []
        self.namespace: dict[str, Any] = {"_equal": _equal, "_in_enum": _in_enum}
        self.references: dict[str, str] = {}  # a reference -> the function that checks its target
        self.tables: list[str] = []
        self.shared: dict[frozenset[Any], str] = {}
        self.patterns: dict[str, tuple[str, str]] = {}
        self.bodies: dict[str, str] = {}  # a function's body, its locals numbered from 1 -> the function
        self.count = 0
        self.locals = 0  # of the function being written

    def fresh(self, prefix: str) -> str:
        if prefix == "x":  # a local: its name ends in "_", so that no name is the start of another (x1_, x12_)
            self.locals += 1
            return f"x{self.locals}_"
        self.count += 1
        return f"{prefix}{self.count}"

    def constant(self, value: object) -> str:
        """A name for `value`; a set of texts or of types named once, however often the schema gives it."""
        # Only these: 1, 1.0 and true are equal as Python values, not as JSON ones.
        shared = isinstance(value, frozenset) and (all(type(item) is str for item in value)
                                                   or all(isinstance(item, type) for item in value))
        if isinstance(value, frozenset) and shared and value in self.shared:
            return self.shared[value]
        name = self.fresh("K")
        self.namespace[name] = value
        if isinstance(value, frozenset) and shared:
            self.shared[value] = name
        return name

    def pattern(self, pattern: str) -> tuple[str, str]:
        """The names of the texts found to match `pattern`, and of the function that tells whether one does."""
        if pattern not in self.patterns:
            matched = self.constant(set())
            search = _Matches(_compiled(pattern).search, self.namespace[matched])
            self.patterns[pattern] = matched, self.constant(search)
        return self.patterns[pattern]

    def table(self, functions: dict[str, str]) -> str:
        """A dict of property names to the functions that check them, made after every function is defined."""
        name = self.fresh("K")
        self.tables.append(f"{name} = {{" + ", ".join(f"{key!r}: {function}" for key, function in functions.items())
                           + "}")
        return name

    # -- conditions ------------------------------------------------------------------------------------------------

    def expression(self, schema: object, var: str) -> str:
        """A condition, true when the value in the local variable `var` is valid against `schema`."""
        if schema is True:
            return "True"
        if schema is False:
            return "False"
        if not isinstance(schema, dict):
            raise SchemaNotSupported(f"a schema is an object or a boolean, not {schema!r}")
        unknown = sorted(set(schema) - _KNOWN)
        if unknown:
            raise SchemaNotSupported(f"keywords not implemented: {', '.join(unknown)}")
        parts: list[str] = []
        if "$ref" in schema:
            parts.append(self.reference(schema["$ref"], var))
        kind = schema.get("type")
        objects = schema.keys() & _OBJECT_KEYWORDS
        arrays = schema.keys() & _ARRAY_KEYWORDS
        if kind == "object" and objects:  # the type, then the members, in one function
            parts.append(f"{self.object_function(schema, typed=True)}({var})")
        elif kind == "array" and arrays:
            parts.append(f"{self.array_function(schema, typed=True)}({var})")
        else:
            if kind is not None:
                parts.append(self.type_condition(kind, var))
            if objects:
                parts.append(f"{self.object_function(schema, typed=False)}({var})")
            if arrays:
                parts.append(f"{self.array_function(schema, typed=False)}({var})")
        if "enum" in schema:
            choices = schema["enum"]
            if not isinstance(choices, list):
                raise SchemaNotSupported(f"enum {choices!r}")
            if all(type(choice) is str for choice in choices):
                parts.append(f"(type({var}) is str and {var} in {self.constant(frozenset(choices))})")
            else:
                parts.append(f"_in_enum({var}, {self.constant(tuple(choices))})")
        if "const" in schema:
            parts.append(f"_equal({var}, {self.constant(schema['const'])})")
        if "oneOf" in schema:
            if not isinstance(schema["oneOf"], list) or not schema["oneOf"]:
                raise SchemaNotSupported(f"oneOf {schema['oneOf']!r}")
            choices = [self.expression(choice, var) for choice in schema["oneOf"]]
            parts.append("(" + " + ".join(f"(1 if ({choice}) else 0)" for choice in choices) + ") == 1")
        if "minimum" in schema:
            least = self.constant(schema["minimum"])
            if kind in ("integer", "number"):  # the type is checked before it
                parts.append(f"{var} >= {least}")
            else:
                parts.append(f"(type({var}) is not int and type({var}) is not float or {var} >= {least})")
        if "pattern" in schema:
            # Texts found to match are kept (up to a bound): a report's dates repeat, and a look-up costs far less than
            # a search. They are data, never source.
            matched, search = self.pattern(_compiled(schema["pattern"]).pattern)
            if kind == "string":  # the type is checked before it
                parts.append(f"({var} in {matched} or {search}({var}))")
            else:
                parts.append(f"(type({var}) is not str or {var} in {matched} or {search}({var}))")
        if len(parts) == 1:
            return parts[0]  # where it is used, it is put in brackets
        return " and ".join(f"({part})" for part in parts) if parts else "True"

    def type_condition(self, names: object, var: str) -> str:
        given = names if isinstance(names, list) else [names]
        if not given or not all(isinstance(name, str) and name in _TYPE_NAMES for name in given):
            raise SchemaNotSupported(f"type {names!r}")
        listed = [str(name) for name in given]
        if len(listed) > 1 and all(name in _EXACT or name == "null" for name in listed):
            exact = frozenset(type(None) if name == "null" else _EXACT[name] for name in listed)
            return f"type({var}) in {self.constant(exact)}"
        conditions = []
        for name in listed:
            if name in _EXACT:
                conditions.append(f"type({var}) is {_EXACT[name].__name__}")
            elif name == "null":
                conditions.append(f"{var} is None")
            elif name == "integer":  # JSON Schema's integer is a number with no fraction: 1.0 is one, true is not
                conditions.append(f"type({var}) is int or type({var}) is float and {var}.is_integer()")
            else:
                conditions.append(f"type({var}) is int or type({var}) is float")
        if len(conditions) == 1:
            return conditions[0]
        return " or ".join(f"({condition})" for condition in conditions)

    def reference(self, reference: object, var: str) -> str:
        if not isinstance(reference, str) or not reference.startswith("#"):
            raise SchemaNotSupported(f"only local references are implemented, not {reference}")
        target: Any = self.root
        for part in reference[1:].split("/")[1:]:
            key = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, dict) or key not in target:
                raise SchemaNotSupported(f"reference {reference} names nothing in the schema")
            target = target[key]
        if target is True or target is False or (isinstance(target, dict) and not target.keys() - _LEAF_KEYWORDS):
            return self.expression(target, var)  # refers to nothing else: written out where it is used
        if reference not in self.references:
            # Named before it is written, so that a schema that refers to itself still compiles.
            name = self.references[reference] = self.fresh("f")
            self.define(lambda: ["return " + self.expression(target, "v")], name)
        return f"{self.references[reference]}({var})"

    # -- functions ---------------------------------------------------------------------------------------------------

    def define(self, make: Callable[[], list[str]], name: str = "") -> str:
        """A function of the body `make` gives (its locals numbered from 1), named `name`, or else the function of
        the same body already written (a schema's parts often repeat: a list of texts), or a new name."""
        outer = self.locals
        self.locals = 0
        body = make()
        self.locals = outer
        text = "\n".join(body)
        if not name:
            if text in self.bodies:
                return self.bodies[text]
            name = self.bodies[text] = self.fresh("f")
        self.lines += [f"def {name}(v):", *_indented(body), ""]
        return name

    def function(self, schema: object) -> str:
        """The name of a function that checks `schema`."""
        condition = self.expression(schema, "v")
        called = re.fullmatch(r"(f[0-9]+)\(v\)", condition)
        if called:  # a check of its own already (an object's, an array's): called as it is, one call fewer
            return called.group(1)
        return self.define(lambda: ["return " + condition])

    def object_function(self, schema: dict[str, Any], typed: bool) -> str:
        """A function that checks the object's members; with `typed`, also that it is an object (else any other value
        passes)."""
        return self.define(lambda: ["if type(v) is not dict:", f"    return {not typed}", *self.members(schema, "v", 1),
                                    "return True"])

    def array_function(self, schema: dict[str, Any], typed: bool) -> str:
        return self.define(lambda: ["if type(v) is not list:", f"    return {not typed}", *self.items(schema, "v", 1),
                                    "return True"])

    def items(self, schema: dict[str, Any], var: str, depth: int) -> list[str]:
        """Statements that return False where the array in `var` (known to be a list) is not valid against `schema`'s
        minItems and items, and else fall through."""
        least = schema.get("minItems", 0)
        if type(least) is not int:
            raise SchemaNotSupported(f"minItems {least!r}")
        lines = [f"if len({var}) < {least}:", "    return False"] if least > 0 else []
        items = schema.get("items", True)
        if not _is_trivial(items):
            item = self.fresh("x")
            lines += [f"for {item} in {var}:", *_indented(self.statements(items, item, depth + 1))]
        return lines

    def statements(self, schema: object, var: str, depth: int) -> list[str]:
        """Statements that return False where the value in `var` is not valid against `schema`, and else fall through:
        an object's or an array's checks written out here (a report's sections, a finding's evidence), no call of
        their own, as deep as Python lets blocks nest; any other schema's as one condition."""
        kind = schema.get("type") if isinstance(schema, dict) else None
        if isinstance(schema, dict) and depth < _NESTED:
            if kind == "object" and not schema.keys() - _ANNOTATIONS - {"type"} - _OBJECT_KEYWORDS - {"patternProperties"}:
                return [f"if type({var}) is not dict:", "    return False", *self.members(schema, var, depth)]
            if kind == "array" and not schema.keys() - _ANNOTATIONS - {"type"} - _ARRAY_KEYWORDS:
                return [f"if type({var}) is not list:", "    return False", *self.items(schema, var, depth)]
        return [f"if not ({self.expression(schema, var)}):", "    return False"]

    def members(self, schema: dict[str, Any], var: str, depth: int) -> list[str]:
        """Statements that return False where the members of the object in `var` (known to be a dict) are not valid
        against `schema`'s required, properties, patternProperties and additionalProperties, and else fall through."""
        required = schema.get("required", [])
        properties = schema.get("properties", {})
        patterns = schema.get("patternProperties", {})
        additional = schema.get("additionalProperties", True)
        if not (isinstance(required, list) and all(isinstance(name, str) for name in required)
                and isinstance(properties, dict) and all(isinstance(name, str) for name in properties)
                and isinstance(patterns, dict)):
            raise SchemaNotSupported("required, properties or patternProperties of another form")
        required = list(dict.fromkeys(required))
        lines: list[str] = []
        if patterns:
            if len(required) == 1:
                lines += [f"if {required[0]!r} not in {var}:", "    return False"]
            elif required:
                lines += [f"if not {self.constant(frozenset(required))} <= {var}.keys():", "    return False"]
            return lines + self.members_by_pattern(properties, patterns, additional, var)
        closed = additional is False
        if closed and not set(required) <= properties.keys():
            return ["return False"]  # a member it must have and may not have
        # The required members are read, and checked, with no test that each is there: one that is not raises KeyError
        # (nothing else in these checks does), and a try costs nothing until it does.
        read: list[str] = []
        for name in required:
            read += self.member(properties.get(name, True), var, name, depth + 1) or [f"{var}[{name!r}]"]
        if read:
            lines += ["try:", *_indented(read), "except KeyError:", "    return False"]
        # With the required members there, an object of no more members has no other: most have few others or none.
        optional = {name: sub for name, sub in properties.items() if name not in required}
        listed_one_by_one = len(optional) <= _LOOKED_UP
        free = _is_trivial(additional)
        if listed_one_by_one:
            counted = self.fresh("x")  # for a closed object: the members that have a property, to compare with all
            rest: list[str] = [f"{counted} = {len(required)}"] if closed and optional else []
            for name, sub in optional.items():
                check = self.member(sub, var, name, depth)
                if check or closed:
                    rest += [f"if {name!r} in {var}:", *_indented(([f"{counted} += 1"] if closed else []) + check)]
            if closed:
                rest += [f"if len({var}) != {counted if optional else len(required)}:", "    return False"]
            if closed and not optional:
                lines += rest
            elif rest:
                lines += [f"if len({var}) != {len(required)}:", *_indented(rest)]
            if closed or free:
                return lines
        elif closed:
            lines += [f"if not {var}.keys() <= {self.constant(frozenset(properties))}:", "    return False"]
        # The members looked up in a table of their properties' checks, each a function; any other member is checked
        # against additionalProperties.
        table = {name: self.function(sub) for name, sub in optional.items()
                 if not (listed_one_by_one or _is_trivial(sub))}
        key, value, function = self.fresh("x"), self.fresh("x"), self.fresh("x")
        named = self.constant(frozenset(properties))
        other = "True" if (closed or free) else self.expression(additional, value)
        loop = [f"for {key}, {value} in {var}.items():"]
        if table:
            table_name = self.table(table)
            loop += [f"    {function} = {table_name}.get({key})",
                     f"    if {function} is not None:", f"        if not {function}({value}):", "            return False"]
            if other != "True":
                loop += [f"    elif {key} not in {named} and not ({other}):", "        return False"]
        elif other != "True":
            loop += [f"    if {key} not in {named} and not ({other}):", "        return False"]
        else:
            return lines
        if other == "True":  # only the members that have a property matter: most objects have none of them
            lines += [f"if not {named}.isdisjoint({var}):", *_indented(loop)]
        else:
            lines += loop
        return lines

    def member(self, schema: object, var: str, name: str, depth: int) -> list[str]:
        """Statements that check the member `name` of the object in `var` (known to have it); none where any value
        is valid. A member whose check names it once is read where it is checked, not into a variable first."""
        value = self.fresh("x")
        checks = self.statements(schema, value, depth)
        if checks == ["if not (True):", "    return False"]:
            return []
        read = f"{var}[{name!r}]"
        if len(checks) == 2 and checks[0].count(value) == 1:  # one condition, which holds no text of the schema
            return [checks[0].replace(value, read), checks[1]]
        return [f"{value} = {read}", *checks]

    def members_by_pattern(self, properties: dict[str, Any], patterns: dict[str, Any], additional: object,
                           var: str) -> list[str]:
        """Each member checked by its property, by every pattern its name matches, and by additionalProperties where
        neither names it."""
        key, value, known = self.fresh("x"), self.fresh("x"), self.fresh("x")
        loop = [f"for {key}, {value} in {var}.items():", f"    {known} = False"]
        if properties:
            table = self.table({name: self.function(sub) for name, sub in properties.items()})
            loop += [f"    if {key} in {table}:", f"        {known} = True",
                     f"        if not {table}[{key}]({value}):", "            return False"]
        for pattern, sub in patterns.items():
            search = self.constant(_compiled(pattern).search)
            loop += [f"    if {search}({key}) is not None:", f"        {known} = True",
                     f"        if not ({self.expression(sub, value)}):", "            return False"]
        other = self.expression(additional, value)
        if other == "False":
            loop += [f"    if not {known}:", "        return False"]
        elif other != "True":
            loop += [f"    if not {known} and not ({other}):", "        return False"]
        return loop
