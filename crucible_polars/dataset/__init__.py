"""The ``Dataset`` class (one split: a lazy Polars plan plus Features), assembled from its
mixins; see :mod:`crucible_polars.dataset.core`."""

from crucible_polars.dataset.core import Dataset
from crucible_polars.writers import DATA_FILE_TEMPLATE, DICT_FILE, INFO_FILE

__all__ = ["DATA_FILE_TEMPLATE", "DICT_FILE", "INFO_FILE", "Dataset"]
