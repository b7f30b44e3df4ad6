"""Records: classes of named fields, declared as dataclasses are (annotations, defaults, `field(...)`) and behaving
as they do (`__init__` with defaults and factories, `__post_init__`, `__repr__`, `__eq__`, frozen: `__hash__` and
no assignment), with `fields`, `replace` and `asdict`.

Why not dataclasses: a command's start-up. On the CPython this runs on, `dataclasses` compiles six small functions
for each frozen class it defines (about a millisecond a class) and imports `inspect` (with ast, dis, tokenize); a
command that defines twenty records spent a third of its time there. A record compiles one function, its
`__init__` (the part whose speed counts, as every instance runs it); `__repr__`, `__eq__`, `__hash__` and the frozen
guards are shared functions that read the class's field names. `tests/test_records.py` holds the two to the same
behaviour on the same declarations."""

from __future__ import annotations

from operator import attrgetter
from reprlib import recursive_repr

TYPE_CHECKING = False  # not typing's: this module is imported by every command, typing is not

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar, dataclass_transform

    _C = TypeVar("_C", bound=type)
    _R = TypeVar("_R")


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()  # a field without a default (or without a default factory)


class FrozenInstanceError(AttributeError):
    """Assigning to, or deleting, a field of a frozen record."""


class Field:
    """One field of a record, in declaration order (base classes' first)."""

    __slots__ = ("name", "default", "default_factory", "compare", "repr")

    def __init__(self, default: Any = MISSING, default_factory: Any = MISSING, compare: bool = True,
                 repr: bool = True):
        if default is not MISSING and default_factory is not MISSING:
            raise ValueError("cannot specify both default and default_factory")
        self.name = ""
        self.default = default
        self.default_factory = default_factory
        self.compare = compare
        self.repr = repr

    def __repr__(self) -> str:
        return f"Field(name={self.name!r}, default={self.default!r}, default_factory={self.default_factory!r})"


def field(*, default: Any = MISSING, default_factory: Callable[[], Any] | Any = MISSING, compare: bool = True,
          repr: bool = True) -> Any:
    """A field's default factory (a new value for each instance), or a field left out of `==` and `repr`."""
    return Field(default, default_factory, compare, repr)


if TYPE_CHECKING:
    @dataclass_transform(frozen_default=True, field_specifiers=(field, Field))
    def record(cls: _C) -> _C:
        """A frozen record: hashable, its fields not assignable."""
        return cls

    @dataclass_transform(field_specifiers=(field, Field))
    def mutable_record(cls: _C) -> _C:
        """A record whose fields can be assigned (and so not hashable)."""
        return cls
else:
    def record(cls):
        """A frozen record: hashable, its fields not assignable."""
        return _define(cls, frozen=True)

    def mutable_record(cls):
        """A record whose fields can be assigned (and so not hashable)."""
        return _define(cls, frozen=False)


def fields(record_or_class: Any) -> tuple[Field, ...]:
    """The fields of a record or record class, in declaration order."""
    try:
        return record_or_class.__record_fields__  # type: ignore[no-any-return]
    except AttributeError:
        raise TypeError("must be called with a record or a record class") from None


def is_record(value: Any) -> bool:
    return hasattr(type(value), "__record_fields__") or isinstance(value, type) and hasattr(value, "__record_fields__")


def replace(obj: _R, /, **changes: Any) -> _R:
    """A new record of the same class, these fields changed, the others as in `obj` (`__post_init__` runs again)."""
    declared = fields(obj)
    unknown = changes.keys() - {f.name for f in declared}
    if unknown:
        raise TypeError(f"{type(obj).__qualname__} has no field {sorted(unknown)[0]!r}")
    for f in declared:
        if f.name not in changes:
            changes[f.name] = getattr(obj, f.name)
    return obj.__class__(**changes)


_IMMUTABLE = (str, int, float, bool, bytes, type(None))


def asdict(obj: Any) -> dict[str, Any]:
    """A record as a dict of its fields, recursively (records in it, lists, tuples and dicts), the rest copied."""
    if not is_record(obj) or isinstance(obj, type):
        raise TypeError("asdict() should be called on record instances")
    return _plain(obj)  # type: ignore[no-any-return]


def _plain(value: Any) -> Any:
    if isinstance(value, _IMMUTABLE):
        return value
    declared = getattr(type(value), "__record_fields__", None)
    if declared is not None:
        return {f.name: _plain(getattr(value, f.name)) for f in declared}
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a named tuple
        return type(value)(*[_plain(v) for v in value])
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, dict):
        return type(value)((_plain(k), _plain(v)) for k, v in value.items())
    import copy

    return copy.deepcopy(value)


def _define(cls: Any, frozen: bool) -> Any:
    declared: dict[str, Field] = {}
    for base in reversed(cls.__mro__[1:]):
        for inherited in getattr(base, "__record_fields__", ()):
            declared[inherited.name] = inherited
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():
        if isinstance(annotation, str) and annotation.startswith(("ClassVar", "typing.ClassVar")):
            continue
        default = cls.__dict__.get(name, MISSING)
        declared[name] = made = default if isinstance(default, Field) else Field(default)
        made.name = name
        if isinstance(made.default, (list, dict, set)):
            raise ValueError(f"mutable default {type(made.default)} for field {name} is not allowed: use default_factory")
        if isinstance(default, Field):
            if made.default is MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, made.default)
    in_order = tuple(declared.values())
    cls.__record_fields__ = in_order
    cls.__record_repr__ = tuple(f.name for f in in_order if f.repr)
    compared = [f.name for f in in_order if f.compare]
    cls.__record_key__ = attrgetter(*compared) if compared else staticmethod(lambda obj: ())  # one name: its value
    cls.__init__ = _init(cls, in_order, frozen)
    own = cls.__dict__
    if "__repr__" not in own:
        cls.__repr__ = _repr
    if "__eq__" not in own:
        cls.__eq__ = _eq
    explicit_hash = "__hash__" in own and not (own["__hash__"] is None and "__eq__" in own)
    if not explicit_hash:
        cls.__hash__ = _hash if frozen else None
    if frozen:
        cls.__setattr__ = _frozen_setattr
        cls.__delattr__ = _frozen_delattr
    return cls


def _init(cls: Any, in_order: tuple[Field, ...], frozen: bool) -> Callable[..., None]:
    """The one compiled function: as fast as the `__init__` dataclasses writes, which is the same code."""
    names: dict[str, Any] = {"__record_set": object.__setattr__, "__record_no_value": MISSING}
    parameters, body = [], []
    seen_default = False
    for f in in_order:
        value = f.name
        if f.default is not MISSING:
            names[f"__record_default_{f.name}"] = f.default
            parameters.append(f"{f.name}=__record_default_{f.name}")
            seen_default = True
        elif f.default_factory is not MISSING:
            names[f"__record_factory_{f.name}"] = f.default_factory
            parameters.append(f"{f.name}=__record_no_value")
            value = f"__record_factory_{f.name}() if {f.name} is __record_no_value else {f.name}"
            seen_default = True
        elif seen_default:
            raise TypeError(f"non-default argument {f.name!r} follows default argument")
        else:
            parameters.append(f.name)
        body.append(f"  __record_set(self, {f.name!r}, {value})" if frozen else f"  self.{f.name} = {value}")
    if hasattr(cls, "__post_init__"):
        body.append("  self.__post_init__()")
    source = f"def __init__(self, {', '.join(parameters)}):\n" + ("\n".join(body) or "  pass") + "\n"
    exec(source, names)
    init: Callable[..., None] = names["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    return init


@recursive_repr()  # as dataclasses' repr: a record inside itself shows as "..."
def _repr(self: Any) -> str:
    shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__record_repr__)
    return f"{self.__class__.__qualname__}({shown})"


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is self.__class__:
        key = self.__record_key__
        return key(self) == key(other)
    return NotImplemented


def _hash(self: Any) -> int:
    return hash(self.__record_key__(self))


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: Any, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")
