"""auditor.records behaves as dataclasses does on the same declarations: the records replaced dataclasses for
start-up time only, so every behaviour the code relies on is compared with the standard library's, side by side."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import pytest

from auditor import records




def declare(decorate, field):
    """The same declarations, made by dataclasses or by records: defaults, a factory, a field left out of == and
    repr, inheritance (a redefined field keeps its place), __post_init__."""

    @decorate
    class Point:
        x: int
        y: int = 0
        tags: list[str] = field(default_factory=list)
        note: str = field(default="", compare=False, repr=False)

    @decorate
    class Labelled(Point):
        label: str = "origin"
        y: int = 5  # redefined: keeps its place after x

    @decorate
    class Checked:
        value: int
        seen: list[int] = field(default_factory=list)

        def __post_init__(self) -> None:
            if self.value < 0:
                raise ValueError("negative")
            self.seen.append(self.value)

    return Point, Labelled, Checked


FROZEN = declare(dataclasses.dataclass(frozen=True), dataclasses.field), declare(records.record, records.field)
MUTABLE = declare(dataclasses.dataclass, dataclasses.field), declare(records.mutable_record, records.field)
KINDS = pytest.mark.parametrize("pair", [FROZEN, MUTABLE], ids=["frozen", "mutable"])
ARGUMENTS = [((1,), {}), ((1, 2), {}), ((1,), {"tags": ["a"]}), ((), {"x": 3, "y": 4, "tags": ["b"], "note": "n"})]


@KINDS
@pytest.mark.parametrize("args, kwargs", ARGUMENTS)
def test_construction_repr_equality_and_conversion_are_the_same(pair, args, kwargs):
    (d_point, d_labelled, _), (r_point, r_labelled, _) = pair
    for d_kind, r_kind in ((d_point, r_point), (d_labelled, r_labelled)):
        made_d, made_r = d_kind(*args, **kwargs), r_kind(*args, **kwargs)
        assert repr(made_r) == repr(made_d)
        assert records.asdict(made_r) == dataclasses.asdict(made_d)
        assert [f.name for f in records.fields(made_r)] == [f.name for f in dataclasses.fields(made_d)]
        assert made_r == r_kind(*args, **kwargs) and not made_r != r_kind(*args, **kwargs)
        assert (made_r == r_kind(*args, **{**kwargs, "note": "other"})) == (made_d == d_kind(*args, **{**kwargs, "note": "other"}))
        assert (made_r == r_kind(9)) == (made_d == d_kind(9))
        assert made_r != made_d  # a record is never equal to another class's instance


@KINDS
def test_a_factory_gives_each_instance_its_own_value(pair):
    _, (point, _, _) = pair
    first, second = point(1), point(2)
    first.tags.append("x")
    assert second.tags == [] and first.tags == ["x"]


def test_frozen_records_hash_as_dataclasses_do_and_refuse_assignment():
    (d_point, _, _), (r_point, r_labelled, _) = FROZEN
    assert hash(r_point(1, 2, ("t",))) == hash(r_point(1, 2, ("t",), "ignored in =="))
    assert len({r_point(1, 2, ()), r_point(1, 2, ()), r_point(1, 3, ())}) == 2
    made = r_labelled(1)
    for change in (lambda: setattr(made, "x", 2), lambda: delattr(made, "x"), lambda: setattr(made, "new", 1)):
        with pytest.raises(records.FrozenInstanceError) as raised:
            change()
        assert isinstance(raised.value, AttributeError)
    with pytest.raises(dataclasses.FrozenInstanceError):
        d_point(1).x = 2  # the behaviour compared with


def test_mutable_records_are_assignable_and_unhashable_as_dataclasses_are():
    (d_point, _, _), (r_point, _, _) = MUTABLE
    for kind in (d_point, r_point):
        made = kind(1)
        made.x = 7
        assert made.x == 7
        with pytest.raises(TypeError):
            hash(made)


@KINDS
def test_replace_and_post_init_as_dataclasses(pair):
    (d_point, d_labelled, d_checked), (r_point, r_labelled, r_checked) = pair
    assert repr(records.replace(r_labelled(1), y=8, label="moved")) == repr(dataclasses.replace(d_labelled(1), y=8, label="moved"))
    assert r_checked(3).seen == d_checked(3).seen == [3]
    assert records.replace(r_checked(3), value=4).seen == dataclasses.replace(d_checked(3), value=4).seen == [3, 4]
    for kind in (d_checked, r_checked):
        with pytest.raises(ValueError, match="negative"):
            kind(-1)
    with pytest.raises(TypeError, match="no field 'z'"):
        records.replace(r_point(1), z=1)


@KINDS
def test_wrong_arguments_are_type_errors_as_for_dataclasses(pair):
    (d_point, _, _), (r_point, _, _) = pair
    for call in (lambda kind: kind(), lambda kind: kind(1, wrong=2), lambda kind: kind(1, 2, [], "", "extra")):
        with pytest.raises(TypeError):
            call(d_point)
        with pytest.raises(TypeError):
            call(r_point)


def test_bad_declarations_are_refused_as_dataclasses_refuses_them():
    for decorate in (dataclasses.dataclass, records.record):
        with pytest.raises(TypeError, match="non-default argument 'b' follows default argument"):
            @decorate
            class Disordered:
                a: int = 0
                b: int
        with pytest.raises(ValueError, match="mutable default"):
            @decorate
            class Shared:
                a: list = []
    with pytest.raises(ValueError):
        records.field(default=1, default_factory=int)


def test_records_copy_and_pickle_intact():
    _, (point, labelled, _) = FROZEN
    made = records.record(type("Plain", (), {"__annotations__": {"a": "int", "b": "str"}, "b": "x",
                                             "__module__": __name__, "__qualname__": "Plain"}))
    globals()["Plain"] = made  # pickle finds a class by its module and name
    try:
        value = made(1)
        assert pickle.loads(pickle.dumps(value)) == value and copy.deepcopy(value) == value == copy.copy(value)
    finally:
        del globals()["Plain"]
    assert copy.deepcopy(labelled(1, tags=["t"])) == labelled(1, tags=["t"])


def test_fields_and_asdict_refuse_what_is_not_a_record():
    for call in (records.fields, records.asdict):
        with pytest.raises(TypeError):
            call(object())
    _, (point, _, _) = FROZEN
    with pytest.raises(TypeError):
        records.asdict(point)  # the class, not an instance
    assert records.is_record(point) and records.is_record(point(1)) and not records.is_record(3)


def test_a_record_that_holds_itself_has_a_repr_as_dataclasses_give_it():
    (d_point, _, _), (r_point, _, _) = MUTABLE
    made_d, made_r = d_point(1), r_point(1)
    made_d.tags.append(made_d)
    made_r.tags.append(made_r)
    assert repr(made_r) == repr(made_d) and "..." in repr(made_r)
