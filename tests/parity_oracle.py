"""Helpers of the parity tests: build the same dataset with ``crucible_polars`` and with
``datasets`` (the oracle), in memory and after ``save_to_disk`` + ``load_from_disk``, and compare
outputs value by value, type by type (numpy dtypes, tensor dtypes, PIL images)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import datasets as hf
import numpy as np
import PIL.Image

import crucible_polars as cp

hf.disable_progress_bars()


def hf_features(features: cp.Features) -> hf.Features:
    """The same features as ``datasets`` objects (through the shared JSON form)."""
    return hf.Features.from_dict(features.to_dict())


def saved_pair(ours: cp.Dataset, theirs: hf.Dataset) -> tuple[cp.Dataset, hf.Dataset]:
    """Both datasets after ``save_to_disk`` + ``load_from_disk``, each with its own library."""
    folder = tempfile.mkdtemp()
    ours.save_to_disk(os.path.join(folder, "ours"))
    theirs.save_to_disk(os.path.join(folder, "theirs"))
    loaded = cp.load_from_disk(os.path.join(folder, "ours"))
    assert isinstance(loaded, cp.Dataset)
    return loaded, hf.load_from_disk(os.path.join(folder, "theirs"))


def both_ways(ours: cp.Dataset, theirs: hf.Dataset) -> Iterator[tuple[str, Any, Any]]:
    """The pair in memory, then the pair saved and loaded back."""
    yield "in memory", ours, theirs
    yield ("saved", *saved_pair(ours, theirs))


def assert_same(ours: Any, theirs: Any, where: str = "") -> None:
    """Equal values of the same kind: numpy arrays with one dtype and shape, tensors with one
    dtype, lists, dicts, PIL images with one size, mode and pixels."""
    import torch

    if type(theirs).__name__ == "Column":  # datasets' lazy column: compare what it formats
        theirs = theirs[:]
    if isinstance(theirs, np.ndarray):
        assert isinstance(ours, np.ndarray), f"{where}: {type(ours)} is not an ndarray"
        assert (ours.dtype, ours.shape) == (theirs.dtype, theirs.shape), (
            f"{where}: {ours.dtype}{ours.shape} != {theirs.dtype}{theirs.shape}"
        )
        if theirs.dtype == object:
            for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
                assert_same(a, b, f"{where}[{i}]")
        else:
            np.testing.assert_array_equal(ours, theirs, err_msg=where)
    elif isinstance(theirs, torch.Tensor):
        assert isinstance(ours, torch.Tensor), f"{where}: {type(ours)} is not a tensor"
        assert (ours.dtype, ours.shape) == (theirs.dtype, theirs.shape), f"{where}"
        assert torch.equal(ours, theirs) or bool(torch.isnan(ours).eq(torch.isnan(theirs)).all()), (
            where
        )
    elif isinstance(theirs, np.generic):
        assert type(ours) is type(theirs), f"{where}: {type(ours)} != {type(theirs)}"
        assert ours == theirs or (ours != ours and theirs != theirs), where
    elif isinstance(theirs, PIL.Image.Image):
        assert isinstance(ours, PIL.Image.Image), where
        assert (ours.size, ours.mode) == (theirs.size, theirs.mode), where
        assert np.array_equal(np.asarray(ours), np.asarray(theirs)), where
    elif isinstance(theirs, Mapping):
        assert isinstance(ours, Mapping), f"{where}: {type(ours)} is not a dict"
        assert list(ours) == list(theirs), f"{where}: keys {list(ours)} != {list(theirs)}"
        for key in theirs:
            assert_same(ours[key], theirs[key], f"{where}.{key}")
    elif isinstance(theirs, (list, tuple)):
        assert isinstance(ours, (list, tuple)), f"{where}: {type(ours)} is not a list"
        assert len(ours) == len(theirs), f"{where}: {len(ours)} != {len(theirs)} items"
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            assert_same(a, b, f"{where}[{i}]")
    elif isinstance(theirs, float) and theirs != theirs:
        assert isinstance(ours, float) and ours != ours, where
    else:
        assert type(ours) is type(theirs), f"{where}: {type(ours)} != {type(theirs)}"
        assert ours == theirs, f"{where}: {ours!r} != {theirs!r}"


def same_outcome(ours: Callable[[], Any], theirs: Callable[[], Any], where: str = "") -> Any:
    """Both succeed with the same value, or both raise an error of a common kind."""
    try:
        expected = theirs()
    except Exception as error:  # the oracle's error kind is the expectation
        kind = ValueError if isinstance(error, ValueError) else type(error)
        try:
            ours()
        except kind:
            return None
        raise AssertionError(f"{where}: datasets raised {error!r}; we did not") from None
    got = ours()
    assert_same(got, expected, where)
    return got
