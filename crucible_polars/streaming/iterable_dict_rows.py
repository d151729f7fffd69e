"""The row methods of :class:`~crucible_polars.IterableDatasetDict` (take, skip, shuffle,
batch, shard, repeat, add_column): each applies the :class:`IterableDataset` method to every
split.

Examples
--------
>>> import crucible_polars as cp
>>> stream = cp.Dataset.from_dict({"a": [1, 2, 3]}).to_iterable_dataset()
>>> dd = cp.IterableDatasetDict(train=stream, test=stream.take(1))
>>> {k: [r["a"] for r in v] for k, v in dd.skip(1).items()}
{'train': [2, 3], 'test': []}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    import numpy as np

    from crucible_polars.streaming.iterable import IterableDataset
    from crucible_polars.streaming.iterable_dict import IterableDatasetDict


class RowMethods:
    """Mixin of :class:`~crucible_polars.IterableDatasetDict`: the row methods per split."""

    def _apply(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """The method ``name`` on every split (defined by the dict class)."""
        raise NotImplementedError

    def take(self, n: int) -> IterableDatasetDict:
        """:meth:`IterableDataset.take` on every split.

        Parameters
        ----------
        n
            How many rows (or batches) of each split.

        Examples
        --------
        >>> import crucible_polars as cp
        >>> from crucible_polars import IterableDatasetDict
        >>> stream = cp.Dataset.from_dict({"a": [1, 2]}).to_iterable_dataset()
        >>> list(IterableDatasetDict(t=stream).take(1)["t"])
        [{'a': 1}]
        """
        return self._apply("take", n)

    def skip(self, n: int) -> IterableDatasetDict:
        """:meth:`IterableDataset.skip` on every split.

        Parameters
        ----------
        n
            How many rows (or batches) of each split to skip.

        Examples
        --------
        >>> import crucible_polars as cp
        >>> from crucible_polars import IterableDatasetDict
        >>> stream = cp.Dataset.from_dict({"a": [1, 2]}).to_iterable_dataset()
        >>> list(IterableDatasetDict(t=stream).skip(1)["t"])
        [{'a': 2}]
        """
        return self._apply("skip", n)

    def shuffle(
        self,
        seed: int | None = None,
        generator: np.random.Generator | None = None,
        buffer_size: int = 1000,
        max_buffer_input_shards: int | None = None,
    ) -> IterableDatasetDict:
        """:meth:`IterableDataset.shuffle` on every split (each with the same seed).

        Parameters
        ----------
        seed
            The seed, the same for every split.
        generator
            A NumPy generator to draw the seed from when ``seed`` is ``None``.
        buffer_size
            Rows in each split's shuffle buffer.
        max_buffer_input_shards
            As in :meth:`IterableDataset.shuffle` (only ``1``).

        Examples
        --------
        >>> import crucible_polars as cp
        >>> from crucible_polars import IterableDatasetDict
        >>> stream = cp.Dataset.from_dict({"a": [1, 2, 3]}).to_iterable_dataset()
        >>> sorted(r["a"] for r in IterableDatasetDict(t=stream).shuffle(seed=0)["t"])
        [1, 2, 3]
        """
        return self._apply(
            "shuffle",
            seed=seed,
            generator=generator,
            buffer_size=buffer_size,
            max_buffer_input_shards=max_buffer_input_shards,
        )

    def batch(
        self,
        batch_size: int | None = None,
        by_column: str | Sequence[str] | None = None,
        drop_last_batch: bool = False,
    ) -> IterableDatasetDict:
        """:meth:`IterableDataset.batch` on every split.

        Parameters
        ----------
        batch_size, by_column, drop_last_batch
            As in :meth:`IterableDataset.batch`.

        Examples
        --------
        >>> import crucible_polars as cp
        >>> from crucible_polars import IterableDatasetDict
        >>> stream = cp.Dataset.from_dict({"a": [1, 2, 3]}).to_iterable_dataset()
        >>> list(IterableDatasetDict(t=stream).batch(2)["t"])
        [{'a': [1, 2]}, {'a': [3]}]
        """
        return self._apply("batch", batch_size, by_column, drop_last_batch)

    def shard(self, num_shards: int, index: int, contiguous: bool = True) -> IterableDatasetDict:
        """:meth:`IterableDataset.shard` on every split.

        Parameters
        ----------
        num_shards
            How many parts each split is divided into.
        index
            Which part to keep.
        contiguous
            Blocks of consecutive files, or every ``num_shards``-th file.

        Examples
        --------
        >>> import crucible_polars as cp
        >>> from crucible_polars import IterableDatasetDict
        >>> stream = cp.Dataset.from_dict({"a": [1, 2, 3]}).to_iterable_dataset()
        >>> list(IterableDatasetDict(t=stream).shard(2, 1)["t"])
        [{'a': 3}]
        """
        return self._apply("shard", num_shards, index, contiguous=contiguous)

    def repeat(self, num_times: int | None) -> IterableDatasetDict:
        """:meth:`IterableDataset.repeat` on every split (ours: ``datasets``'
        ``IterableDatasetDict`` has no ``repeat``).

        Parameters
        ----------
        num_times
            How many passes over each split; ``None`` repeats forever.

        Examples
        --------
        >>> import crucible_polars as cp
        >>> from crucible_polars import IterableDatasetDict
        >>> stream = cp.Dataset.from_dict({"a": [1, 2]}).to_iterable_dataset()
        >>> [r["a"] for r in IterableDatasetDict(t=stream).repeat(2)["t"]]
        [1, 2, 1, 2]
        """
        return self._apply("repeat", num_times)

    def add_column(
        self, name: str, column: Mapping[str, Sequence[Any] | Any] | Sequence[Any] | Any
    ) -> IterableDatasetDict:
        """:meth:`IterableDataset.add_column` on every split (ours: ``datasets``'
        ``IterableDatasetDict`` has no ``add_column``).

        Parameters
        ----------
        name
            The new column's name.
        column
            ``{split: values}`` with every split's values (one per row), or one list, array
            or Series of values for every split.

        Raises
        ------
        KeyError
            A mapping that misses a split or names one that does not exist.

        Examples
        --------
        >>> import crucible_polars as cp
        >>> from crucible_polars import IterableDatasetDict
        >>> stream = cp.Dataset.from_dict({"a": [1, 2]}).to_iterable_dataset()
        >>> dd = IterableDatasetDict(train=stream, test=stream.take(1))
        >>> added = dd.add_column("b", {"train": ["x", "y"], "test": ["z"]})
        >>> [r["b"] for r in added["train"]], [r["b"] for r in added["test"]]
        (['x', 'y'], ['z'])
        """
        if not isinstance(column, Mapping):
            return self._apply("add_column", name, column)
        splits = cast("dict[str, IterableDataset]", self)  # this mixin is a dict's
        if set(column) != set(splits):
            missing = sorted(set(splits) - set(column))
            unknown = sorted(set(column) - set(splits))
            raise KeyError(
                f"add_column({name!r}) needs values for exactly the splits {sorted(splits)}: "
                f"missing {missing}, unknown {unknown}."
            )
        make: Any = type(self)
        return make({k: v.add_column(name, column[k]) for k, v in splits.items()})
