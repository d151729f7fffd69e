"""The label methods of :class:`~crucible_polars.Dataset`: ``align_labels_with_mapping``
renumbers a ClassLabel column to a model's ``label2id``.

Examples
--------
>>> from crucible_polars import ClassLabel, Dataset, Features
>>> features = Features({"y": ClassLabel(names=["a", "b"])})
>>> Dataset.from_dict({"y": [0, 1]}, features=features).align_labels_with_mapping(
...     {"b": 0, "a": 1}, "y"
... )["y"]
[1, 0]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import polars as pl

from crucible_polars.dataset.state import DatasetState
from crucible_polars.features import ClassLabel, List

if TYPE_CHECKING:
    from crucible_polars.dataset.core import Dataset


class DatasetLabels(DatasetState):
    """Mixin with the label methods of :class:`~crucible_polars.Dataset`."""

    def align_labels_with_mapping(self, label2id: Mapping[str, int], label_column: str) -> Dataset:
        """Renumber a ClassLabel (or list of ClassLabel) column to a model's ``label2id``,
        matching names case-insensitively, as ``datasets`` does (a lazy Polars replace).

        Parameters
        ----------
        label2id
            The model's ``{label name: id}``.
        label_column
            The ClassLabel column to renumber.

        Examples
        --------
        >>> from crucible_polars import ClassLabel, Dataset, Features
        >>> features = Features({"label": ClassLabel(names=["neg", "pos"])})
        >>> ds = Dataset.from_dict({"label": [0, 1]}, features=features)
        >>> aligned = ds.align_labels_with_mapping({"POS": 0, "NEG": 1}, "label")
        >>> aligned["label"], aligned.features["label"]
        ([1, 0], ClassLabel(names=['POS', 'NEG']))
        """
        features = self._plan.features
        if label_column not in features:
            raise ValueError(f"Column ({label_column}) not in table columns ({list(features)}).")
        feature = features[label_column]
        inner = feature.feature if isinstance(feature, List) else feature
        if not isinstance(inner, ClassLabel):
            raise ValueError(
                "Aligning labels with a mapping is only supported for ClassLabel column or "
                f"Sequence column with the inner type ClassLabel, and column {feature} is of "
                f"type {type(feature).__name__}."
            )
        ordered = dict(sorted(label2id.items(), key=lambda item: item[1]))
        names = list(ordered)
        lowered = {name.lower(): new_id for name, new_id in ordered.items()}
        old_to_new = {
            old_id: lowered[str(name).lower()]
            for old_id, name in enumerate(inner.names)
            if str(name).lower() in lowered
        }

        def renumber(expr: pl.Expr) -> pl.Expr:
            return expr.replace_strict(old_to_new, return_dtype=pl.Int64)

        column = pl.col(label_column)
        expr = (
            column.list.eval(renumber(pl.element()))
            if isinstance(feature, List)
            else renumber(column)
        )
        new_label = ClassLabel(names=names)
        updated = features.copy()
        updated[label_column] = List(new_label) if isinstance(feature, List) else new_label
        plan = self._plan
        lf = plan.lf.with_columns(expr.alias(label_column))
        return self._with(plan.derive(lf, updated, num_rows=plan.known_rows()))
