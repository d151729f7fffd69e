"""Bridges to engines outside Polars (Ray Data); each imports its engine lazily."""

from crucible_polars.integrations import ray_data

__all__ = ["ray_data"]
