"""The error hierarchy: groups, builtin mixins, Polars' ColumnNotFoundError, and pickling.

Every class is found by introspecting ``crucible_polars.errors`` and its submodules, so a
class added later is covered (or the test says what to add) without editing this file.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import multiprocessing
import pickle
import pkgutil
import types
import typing
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import crucible_polars as cp
from crucible_polars import errors

GROUPS = (errors.HubError, errors.DataError, errors.UsageError)

# The builtin each class mixes in, so ``except FileNotFoundError`` etc. keep working.
BUILTINS: dict[str, tuple[type[BaseException], ...]] = {
    "DataFilesNotFoundError": (FileNotFoundError,),
    "DatasetNotFoundError": (FileNotFoundError,),
    "UnsupportedFormatError": (ValueError,),
    "DataFileError": (ValueError,),
    "SchemaMismatchError": (ValueError,),
    "FeatureCastError": (ValueError,),
    "FeatureTypeError": (ValueError, TypeError),
    "ImageDecodeError": (ValueError,),
    "AudioDecodeError": (ValueError,),
    "MediaDecodeError": (ValueError,),
    "UnsafeArchiveError": (ValueError,),
    "StreamReadError": (ConnectionError,),
    "StreamChecksumError": (ConnectionError,),
    "SavedDatasetError": (FileNotFoundError,),
    "HubAccessError": (PermissionError,),
    "HubDownloadError": (ConnectionError,),
    "OfflineCacheMissError": (FileNotFoundError,),
    "LoadingScriptError": (RuntimeError,),
    "ColumnNotFoundError": (KeyError, ValueError, pl.exceptions.ColumnNotFoundError),
    "ExtraColumnsError": (ValueError,),
    "DuplicateColumnError": (ValueError,),
    "ConfigNotFoundError": (ValueError,),
    "SplitNotFoundError": (ValueError,),
    "FunctionOutputError": (ValueError,),
}

MEMBERS: dict[type[errors.CrucibleError], set[str]] = {
    errors.HubError: {
        "DatasetNotFoundError",
        "HubAccessError",
        "HubDownloadError",
        "OfflineCacheMissError",
        "LoadingScriptError",
    },
    errors.DataError: {
        "DataFilesNotFoundError",
        "DatasetNotFoundError",  # also a DataFilesNotFoundError, as it always was
        "UnsupportedFormatError",
        "DataFileError",
        "SchemaMismatchError",
        "FeatureCastError",
        "FeatureTypeError",
        "ImageDecodeError",
        "AudioDecodeError",
        "MediaDecodeError",
        "UnsafeArchiveError",
        "StreamReadError",
        "StreamChecksumError",
        "SavedDatasetError",
    },
    errors.UsageError: {
        "ColumnNotFoundError",
        "ExtraColumnsError",
        "DuplicateColumnError",
        "ConfigNotFoundError",
        "SplitNotFoundError",
        "FunctionOutputError",
    },
}


def _defined_classes() -> list[type[BaseException]]:
    """Every exception class defined in ``crucible_polars.errors`` or one of its modules."""
    modules = [errors] + [
        importlib.import_module(f"{errors.__name__}.{info.name}")
        for info in pkgutil.iter_modules(errors.__path__)
    ]
    found = {
        value
        for module in modules
        for value in vars(module).values()
        if inspect.isclass(value)
        and issubclass(value, BaseException)
        and value.__module__.startswith(errors.__name__)
    }
    return sorted(found, key=lambda cls: cls.__name__)


CLASSES = _defined_classes()
LEAVES = [cls for cls in CLASSES if cls is not errors.CrucibleError and cls not in GROUPS]


def _sample_value(hint: Any, index: int, name: str) -> Any:
    """A distinct value of the annotated type (``index`` keeps ints of one call apart)."""
    union = typing.get_origin(hint) in (typing.Union, types.UnionType)
    options = typing.get_args(hint) if union else (hint,)
    if int in options:
        return 10 + index
    if any(typing.get_origin(option) is not None for option in options):  # Sequence[str]
        return [f"{name}-1", f"{name}-2"]
    if str in options:
        return f"<{name}>"
    return {"value": index}  # Any


def _sample_kwargs(cls: type[BaseException]) -> dict[str, Any]:
    """A distinct value for every argument of ``cls``'s constructor, all of them literals."""
    hints = typing.get_type_hints(cls.__init__, vars(inspect.getmodule(cls.__init__)))
    parameters = list(inspect.signature(cls.__init__).parameters)[1:]
    return {name: _sample_value(hints[name], i, name) for i, name in enumerate(parameters)}


def _sample(cls: type[BaseException]) -> BaseException:
    """``cls`` built with a distinct value for every constructor argument."""
    if not any("__init__" in vars(k) for k in cls.__mro__ if issubclass(k, errors.CrucibleError)):
        return cls("Something went wrong.")
    return cls(**_sample_kwargs(cls))


def test_every_class_is_exported_and_shown_under_the_public_module() -> None:
    assert {cls.__name__ for cls in CLASSES} == set(errors.__all__)
    for cls in CLASSES:
        assert getattr(errors, cls.__name__) is cls
        assert cls.__module__ == "crucible_polars.errors", cls


def test_every_error_belongs_to_a_group_and_keeps_its_builtin() -> None:
    assert {cls.__name__ for cls in LEAVES} == set(BUILTINS), "add the new class to BUILTINS"
    for cls in LEAVES:
        groups = [group for group in GROUPS if issubclass(cls, group)]
        assert groups, f"{cls.__name__} is in no group (HubError, DataError, UsageError)"
        assert all(cls.__name__ in MEMBERS[group] for group in groups), cls
        for builtin in BUILTINS[cls.__name__]:
            assert issubclass(cls, builtin), (cls, builtin)


@pytest.mark.parametrize("group", GROUPS, ids=lambda group: group.__name__)
def test_each_group_catches_its_members(group: type[errors.CrucibleError]) -> None:
    for name in MEMBERS[group]:
        cls = getattr(errors, name)
        with pytest.raises(group):
            raise _sample(cls)
        with pytest.raises(errors.CrucibleError):
            raise _sample(cls)
    outsiders = [cls for cls in LEAVES if cls.__name__ not in MEMBERS[group]]
    assert outsiders and not any(issubclass(cls, group) for cls in outsiders)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_pickle_round_trip_keeps_type_message_and_attributes(cls: type[BaseException]) -> None:
    error = _sample(cls)
    vars(error)["__notes__"] = ["a note added on the way up"]  # as add_note() stores it
    for clone in (pickle.loads(pickle.dumps(error)), copy.copy(error), copy.deepcopy(error)):
        assert type(clone) is cls
        assert str(clone) == str(error) and clone.args == error.args  # message not doubled
        assert vars(clone) == vars(error)  # every attribute, and the note
        for name, value in vars(error).items():
            assert getattr(clone, name) == value, name


def test_an_error_keeps_attributes_set_after_construction() -> None:
    error = errors.DataFileError("a.jsonl", "invalid JSON")
    error.row = 7
    assert pickle.loads(pickle.dumps(error)).row == 7


def test_dataset_not_found_runs_its_parents_init() -> None:
    error = errors.DatasetNotFoundError("org/name")
    assert isinstance(error, errors.DataFilesNotFoundError) and error.path == "org/name"
    assert str(error).startswith("Dataset 'org/name' doesn't exist on the Hub")
    assert str(error).count("org/name") == 1


def test_one_except_catches_ours_and_polars_column_not_found() -> None:
    ds = cp.Dataset.from_dict({"a": [1], "b": [2]})
    with pytest.raises(pl.exceptions.ColumnNotFoundError) as ours:
        ds.select_columns(["c"])
    assert isinstance(ours.value, errors.ColumnNotFoundError)
    assert ours.value.available == ["a", "b"]
    with pytest.raises(pl.exceptions.ColumnNotFoundError):  # Polars' own, from the plan
        ds.filter(pl.col("c") > 1).to_list()
    try:
        ds.remove_columns("zzz")
    except pl.exceptions.PolarsError as error:  # the Polars base class catches it too
        assert isinstance(error, KeyError) and isinstance(error, ValueError)


def test_errors_raised_in_a_spawned_process_arrive_whole(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.jsonl")
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        with pytest.raises(errors.DataFilesNotFoundError) as info:  # a real load, in the child
            pool.apply(cp.load_dataset, ("json",), {"data_files": missing})
        assert info.value.path == missing and str(info.value).count(missing) == 1
        for cls in LEAVES:
            kwargs = _sample_kwargs(cls)
            source = (
                f"from crucible_polars import errors\nraise errors.{cls.__name__}(**{kwargs!r})"
            )
            with pytest.raises(cls) as raised:
                pool.apply(exec, (source,))
            expected = cls(**kwargs)
            assert type(raised.value) is cls
            assert str(raised.value) == str(expected)
            assert vars(raised.value) == vars(expected)
