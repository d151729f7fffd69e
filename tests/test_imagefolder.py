"""imagefolder: the same rows, labels and Features as ``datasets``' imagefolder."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import PIL.Image
import polars as pl
import pytest

import crucible_polars as cp

datasets = pytest.importorskip("datasets")

RNG = np.random.default_rng(1)


def _image(path: Path, size: tuple[int, int] = (5, 4), mode: str = "RGB") -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    width, height = size
    shape = (height, width, 3) if mode == "RGB" else (height, width)
    image = PIL.Image.fromarray(RNG.integers(0, 255, shape, dtype=np.uint8))
    fmt = "JPEG" if path.suffix.lower() in (".jpg", ".jpeg") else "PNG"
    buf = io.BytesIO()
    image.save(buf, format=fmt)
    path.write_bytes(buf.getvalue())
    return buf.getvalue()


def _load_both(tmp_path: Path, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
    theirs = datasets.load_dataset(*args, cache_dir=str(tmp_path / "hf-cache"), **kwargs)
    ours = cp.load_dataset(*args, **kwargs)
    return theirs, ours


def _rows(ds: Any) -> list[dict[str, Any]]:
    """Rows with images as (mode, pixels, file name) -- comparable across libraries."""
    out = []
    for i in range(len(ds)):
        row = dict(ds[i])
        for name, feature in ds.features.items():
            value = row[name]
            if type(feature).__name__ == "Image" and value is not None:
                name_ = os.path.basename(value.filename) if getattr(value, "filename", "") else None
                row[name] = (value.mode, np.asarray(value).tolist(), name_)
        out.append(row)
    return out


def _paths(ds: Any) -> list[str]:
    raw = ds.cast_column("image", type(ds.features["image"])(decode=False))
    return [raw[i]["image"]["path"] for i in range(len(raw))]


def _assert_same(theirs: Any, ours: Any, *, same_paths: bool = True) -> None:
    if isinstance(theirs, dict):
        assert list(ours) == list(theirs)
        for split in theirs:
            _assert_same(theirs[split], ours[split], same_paths=same_paths)
        return
    assert ours.features.to_dict() == theirs.features.to_dict()
    assert len(ours) == len(theirs)
    if "image" in theirs.features:
        ours_paths, their_paths = _paths(ours), _paths(theirs)
        if same_paths:
            assert ours_paths == their_paths
        else:
            # datasets reads archive members as "zip://member::archive"; we extract them
            assert [os.path.basename(p) for p in ours_paths] == [
                os.path.basename(p.split("::")[0]) for p in their_paths
            ]
    their_rows = _rows(theirs)
    for row in their_rows:  # datasets keeps the file name only for images it opened by path
        for key, value in row.items():
            if isinstance(value, tuple):
                row[key] = value[:2]
    our_rows = [
        {k: v[:2] if isinstance(v, tuple) else v for k, v in r.items()} for r in _rows(ours)
    ]
    assert our_rows == their_rows


# --------------------------------------------------------------------------------------
# Layouts
# --------------------------------------------------------------------------------------


def test_class_folders_give_class_labels(tmp_path: Path) -> None:
    root = tmp_path / "pets"
    for label in ["dog", "cat", "bird"]:
        for i in range(2):
            _image(root / label / f"{i}.png")
    _image(root / "cat" / "x.JPG")  # upper-case extensions count
    (root / "cat" / "notes.txt").write_text("ignored")
    theirs, ours = _load_both(tmp_path, "imagefolder", data_dir=str(root))
    _assert_same(theirs, ours)
    assert ours["train"].features["label"].names == ["bird", "cat", "dog"]
    # the same folder, found without naming the format
    _assert_same(theirs, cp.load_dataset(str(root)))


def test_split_folders_and_labels_over_every_split(tmp_path: Path) -> None:
    root = tmp_path / "data"
    for split, labels in {"train": ["cat", "dog"], "test": ["cat", "dog", "fox"]}.items():
        for label in labels:
            _image(root / split / label / "a.png", size=(3, 3))
            _image(root / split / label / "b.jpeg", size=(4, 2))
    theirs, ours = _load_both(tmp_path, "imagefolder", data_dir=str(root))
    _assert_same(theirs, ours)
    assert ours["train"].features["label"].names == ["cat", "dog", "fox"]
    one_t = datasets.load_dataset(
        "imagefolder", data_dir=str(root), split="test", cache_dir=str(tmp_path / "c2")
    )
    _assert_same(one_t, cp.load_dataset("imagefolder", data_dir=str(root), split="test"))


@pytest.mark.parametrize(
    "layout",
    [
        ["only/a.png", "only/b.png"],  # one folder name: no label
        ["a.png", "cat/b.png", "dog/c.png"],  # images at several depths: no label
        ["cat/a.png", "dog/b.png"],  # two labels at one depth
    ],
)
@pytest.mark.parametrize("drop_labels", [None, True, False])
def test_when_labels_are_added(tmp_path: Path, layout: list[str], drop_labels: Any) -> None:
    root = tmp_path / "root"
    for name in layout:
        _image(root / name)
    kwargs = {} if drop_labels is None else {"drop_labels": drop_labels}
    theirs, ours = _load_both(tmp_path, "imagefolder", data_dir=str(root), split="train", **kwargs)
    _assert_same(theirs, ours)


def test_requested_class_names_encode_the_folders(tmp_path: Path) -> None:
    root = tmp_path / "root"
    for label in ["cat", "dog"]:
        _image(root / label / "1.png")
    features = {
        "image": ("Image", {}),
        "label": ("ClassLabel", {"names": ["dog", "cat", "cow"]}),
    }
    theirs_features = datasets.Features(
        {k: getattr(datasets, t)(**kw) for k, (t, kw) in features.items()}
    )
    ours_features = cp.Features({k: getattr(cp, t)(**kw) for k, (t, kw) in features.items()})
    theirs = datasets.load_dataset(
        "imagefolder",
        data_dir=str(root),
        split="train",
        features=theirs_features,
        cache_dir=str(tmp_path / "hf"),
    )
    ours = cp.load_dataset("imagefolder", data_dir=str(root), split="train", features=ours_features)
    _assert_same(theirs, ours)
    assert ours["label"] == [1, 0]
    with pytest.raises(ValueError, match="Invalid string class label dog"):
        cp.load_dataset(
            "imagefolder",
            data_dir=str(root),
            features=cp.Features({"image": cp.Image(), "label": cp.ClassLabel(names=["cat"])}),
        )


def test_data_files_glob_and_dict(tmp_path: Path) -> None:
    root = tmp_path / "root"
    for label in ["a", "b"]:
        _image(root / "train" / label / "1.png")
        _image(root / "val" / label / "1.png")
    theirs, ours = _load_both(
        tmp_path,
        "imagefolder",
        data_files={"train": str(root / "train" / "**"), "validation": str(root / "val/*/*.png")},
    )
    _assert_same(theirs, ours)


def test_metadata_jsonl_adds_columns(tmp_path: Path) -> None:
    root = tmp_path / "captions"
    _image(root / "imgs" / "b.png")
    _image(root / "imgs" / "a.png", size=(2, 6))
    _image(root / "imgs" / "unlisted.png")  # not in the metadata: not a row
    lines = [
        {"file_name": "imgs/b.png", "text": "a bee", "score": 0.5, "n": 1},
        {"file_name": "imgs/a.png", "text": "an ant", "score": 1.5, "n": 2},
    ]
    (root / "metadata.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    theirs, ours = _load_both(tmp_path, "imagefolder", data_dir=str(root))
    _assert_same(theirs, ours)
    assert ours["train"].column_names == ["image", "text", "score", "n"]
    assert ours["train"]["text"] == ["a bee", "an ant"]
    # filter by a metadata column: only the kept row's image is decoded
    kept = ours["train"].filter(pl.col("n") == 2)
    assert kept[0]["image"].size == (2, 6)


def test_metadata_csv_per_split(tmp_path: Path) -> None:
    root = tmp_path / "root"
    for split in ["train", "test"]:
        _image(root / split / "x.png")
        _image(root / split / "y.png")
        (root / split / "metadata.csv").write_text(
            f"file_name,caption,width\nx.png,{split} x,5\ny.png,{split} y,5\n"
        )
    theirs, ours = _load_both(tmp_path, "imagefolder", data_dir=str(root))
    _assert_same(theirs, ours)
    # drop_metadata gives images only (no labels either, as datasets)
    theirs, ours = _load_both(
        tmp_path, "imagefolder", data_dir=str(root), drop_metadata=True, split="train"
    )
    _assert_same(theirs, ours)


def test_metadata_other_file_name_columns(tmp_path: Path) -> None:
    root = tmp_path / "root"
    for name in ["a.png", "b.png", "c.png"]:
        _image(root / name)
    lines = [
        {"source_file_name": "a.png", "frame_file_names": ["b.png", "c.png"], "k": "x"},
        {"source_file_name": "c.png", "frame_file_names": ["a.png"], "k": "y"},
    ]
    (root / "metadata.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    theirs = datasets.load_dataset(
        "imagefolder", data_dir=str(root), split="train", cache_dir=str(tmp_path / "hf")
    )
    ours = cp.load_dataset("imagefolder", data_dir=str(root), split="train")
    assert ours.features.to_dict() == theirs.features.to_dict()
    assert ours.column_names == ["source", "frame", "k"]
    for i in range(2):
        assert [im.size for im in ours[i]["frame"]] == [im.size for im in theirs[i]["frame"]]
        np.testing.assert_array_equal(
            np.asarray(ours[i]["source"]), np.asarray(theirs[i]["source"])
        )


def test_images_inside_a_zip(tmp_path: Path) -> None:
    archive = tmp_path / "pets.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for label in ["cat", "dog"]:
            for i in range(2):
                zf.writestr(f"{label}/{i}.png", _image(tmp_path / "src" / label / f"{i}.png"))
    # datasets 5.2 labels archived images by the archive's own folder and fails
    # ("Invalid string class label"), so rows and images are compared without labels...
    theirs, ours = _load_both(
        tmp_path, "imagefolder", data_files=str(archive), split="train", drop_labels=True
    )
    _assert_same(theirs, ours, same_paths=False)
    # ...and the labels come from the folders inside the archive
    labeled = cp.load_dataset("imagefolder", data_files=str(archive), split="train")
    assert labeled.features["label"] == cp.ClassLabel(names=["cat", "dog"])
    assert labeled["label"] == [0, 0, 1, 1]
    assert _paths(labeled) == _paths(ours)  # extracted once, reused
    assert all(p.startswith(os.environ["HF_DATASETS_CACHE"]) for p in _paths(ours))
    # files that are not images are not rows; the archive is found by listing a folder
    with zipfile.ZipFile(archive, "a") as zf:
        zf.writestr("README.txt", "not an image")
    folder = tmp_path / "folder"
    folder.mkdir()
    os.replace(archive, folder / "train.zip")
    found = cp.load_dataset(str(folder), split="train")
    assert found.features == labeled.features and len(found) == 4


@pytest.mark.parametrize("suffix", [".tar", ".tar.gz", ".tar.xz", ".tar.bz2", ".tgz"])
def test_images_inside_tar_archives(tmp_path: Path, suffix: str) -> None:
    import tarfile

    archive = tmp_path / f"pets{suffix}"
    mode = {".tar": "w", ".tar.gz": "w:gz", ".tgz": "w:gz", ".tar.xz": "w:xz"}.get(suffix, "w:bz2")
    with tarfile.open(archive, mode) as tf:
        for label in ["cat", "dog"]:
            tf.add(_write_png(tmp_path / "src" / label / "1.png"), arcname=f"{label}/1.png")
    ds = cp.load_dataset("imagefolder", data_files=str(archive), split="train")
    assert ds.features["label"] == cp.ClassLabel(names=["cat", "dog"])
    assert ds["label"] == [0, 1] and ds[1]["image"].size == (5, 4)


def _write_png(path: Path) -> Path:
    _image(path)
    return path


def test_metadata_inside_a_zip(tmp_path: Path) -> None:
    archive = tmp_path / "captions.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name in ["p/1.png", "p/2.png"]:
            zf.writestr(name, _image(tmp_path / "src" / name))
        zf.writestr(
            "metadata.jsonl",
            '{"file_name": "p/2.png", "text": "two"}\n{"file_name": "p/1.png", "text": "one"}\n',
        )
    theirs, ours = _load_both(tmp_path, "imagefolder", data_files=str(archive), split="train")
    _assert_same(theirs, ours, same_paths=False)
    assert ours["text"] == ["two", "one"]


def test_json_lines_inside_archives(tmp_path: Path) -> None:
    import tarfile

    rows = [{"q": f"question {i}", "a": i} for i in range(5)]
    data = "".join(json.dumps(r) + "\n" for r in rows).encode()
    with zipfile.ZipFile(tmp_path / "train.zip", "w") as zf:
        zf.writestr("part-1.jsonl", data)
    with tarfile.open(tmp_path / "test.tar.gz", "w:gz") as tf:
        for name, content in [("nested/test.jsonl", data), ("notes.md", b"# not data")]:
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tf.addfile(info, io.BytesIO(content))
    ds = cp.load_dataset(str(tmp_path))
    assert ds.num_rows == {"train": 5, "test": 5}
    assert ds["test"].to_list() == rows
    single = cp.load_dataset(str(tmp_path / "train.zip"), split="train")
    assert single.to_list() == rows
    assert cp.load_dataset("json", data_files=str(tmp_path / "test.tar.gz"))["train"]["a"] == [
        0,
        1,
        2,
        3,
        4,
    ]
    theirs = datasets.load_dataset(
        "json", data_files=str(tmp_path / "train.zip"), split="train", cache_dir=str(tmp_path / "c")
    )
    assert theirs.to_list() == single.to_list()


def test_numpy_batches_of_an_imagefolder(tmp_path: Path) -> None:
    root = tmp_path / "root"
    for label in ["a", "b"]:
        for i in range(3):
            _image(root / label / f"{i}.png", size=(6, 6))
    ds = cp.load_dataset("imagefolder", data_dir=str(root), split="train")
    theirs = datasets.load_dataset(
        "imagefolder", data_dir=str(root), split="train", cache_dir=str(tmp_path / "hf")
    )
    ours = ds.with_format("numpy")[:]
    np.testing.assert_array_equal(ours["image"], theirs.with_format("numpy")[:]["image"])
    np.testing.assert_array_equal(ours["label"], theirs.with_format("numpy")[:]["label"])
    label_b = ds.features["label"].str2int("b")
    batch = next(ds.filter(pl.col("label") == label_b).iter(4, format="numpy"))
    assert batch["image"].shape == (3, 6, 6, 3) and set(batch["label"].tolist()) == {1}
