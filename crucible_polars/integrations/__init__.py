"""Bridges to engines outside Polars (Ray Data); each imports its engine lazily."""
