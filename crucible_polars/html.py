"""Notebook display: schema, a few rows, and small thumbnails for image columns.

Only the preview rows are read from the plan, and their images are turned into thumbnails
when the notebook asks for the HTML (in the decode threads; JPEGs at a reduced scale).
"""

from __future__ import annotations

import base64
import html
import io
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crucible_polars.dataset import Dataset

PREVIEW_ROWS = 5
THUMBNAIL_SIZE = (64, 64)
MAX_CELL_CHARS = 120


def thumbnail_html(value: dict[str, Any] | None, size: tuple[int, int] = THUMBNAIL_SIZE) -> str:
    """An ``<img>`` tag with a small PNG thumbnail of an image value.

    A value that cannot be decoded shows as *undecodable* (the reason in its tooltip).

    Examples
    --------
    >>> import PIL.Image
    >>> buf = io.BytesIO(); PIL.Image.new("RGB", (300, 200)).save(buf, format="PNG")
    >>> thumbnail_html({"bytes": buf.getvalue(), "path": None}).startswith("<img")
    True
    >>> thumbnail_html({"bytes": b"junk", "path": "x.png"})[:20]
    '<i title="Column &#x'
    """
    from crucible_polars.errors import ImageDecodeError
    from crucible_polars.media.decode import decode_thumbnail

    try:
        image = decode_thumbnail(value, size)
    except ImageDecodeError as err:
        return f'<i title="{html.escape(str(err))}">undecodable</i>'
    if image is None:
        return "None"
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    data = base64.b64encode(buf.getvalue()).decode()
    return f'<img src="data:image/png;base64,{data}" style="max-height:{size[1]}px"/>'


def _cell(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else value
    if len(text) > MAX_CELL_CHARS:
        text = text[: MAX_CELL_CHARS - 1] + "…"
    return html.escape(text)


def dataset_html(ds: Dataset, rows: int = PREVIEW_ROWS) -> str:
    """HTML for a notebook: shape, features and the first rows (only those rows are read).

    Examples
    --------
    >>> import crucible_polars as cp
    >>> "<table" in dataset_html(cp.Dataset.from_dict({"a": [1, 2]}))
    True
    """
    from crucible_polars.media.batch import run_chunked

    image_columns = [c for c in ds.features.image_columns() if c in ds.column_names]
    head = ds._collect(ds.lazy().head(rows))
    cells: dict[str, list[str]] = {
        name: [_cell(v) for v in head[name].to_list()]
        for name in ds.column_names
        if name not in image_columns
    }
    for name in image_columns:
        values = head[name].to_list()

        def thumbnails(start: int, stop: int, values: list[Any] = values) -> list[str]:
            return [thumbnail_html(v) for v in values[start:stop]]

        cells[name] = [cell for chunk in run_chunked(len(values), thumbnails) for cell in chunk]
    header = "".join(
        f"<th>{html.escape(name)}<br/><small>{html.escape(repr(ds.features[name]))}</small></th>"
        for name in ds.column_names
    )
    body = "".join(
        "<tr>" + "".join(f"<td>{cells[name][i]}</td>" for name in ds.column_names) + "</tr>"
        for i in range(head.height)
    )
    split = f" split={html.escape(ds.split)!r}" if ds.split else ""
    return (
        f"<div><b>Dataset</b>{split} · {ds.num_rows:,} rows × {ds.num_columns} columns"
        f"<table><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table></div>"
    )
