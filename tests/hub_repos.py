"""Repository layouts copied from real Hub datasets, to serve from the test Hub.

Each ``*_files`` function returns ``{path_in_repo: bytes}`` with the file names, folder layout
and README YAML of the real repository it imitates (rows are real GSM8K rows or small
synthetic ones); each ``add_*`` function commits such a layout to a
:class:`~crucible_polars.testing.hub_server.HubServer` under a repo id chosen by the caller
(tests use one repo id per test, since the session's server keeps every repository).

Parquet files are written the way ``datasets`` writes them (``push_to_hub`` and the Hub's
parquet conversion): pyarrow, ``string`` columns, the ``huggingface`` schema metadata holding
the features in ``datasets``' JSON form, spelled out here rather than produced by our code.

Used by ``tests/test_hub_load.py`` and ``benchmarks/bench_hub.py``.
"""

from __future__ import annotations

import gzip
import io
import json
import lzma
from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from crucible_polars.testing.hub_server import HubServer

#: The real GSM8K JSON lines, xz-compressed (``train``, ``test``, ``test_socratic``).
GSM8K_DATA = Path(__file__).resolve().parent / "data" / "gsm8k"

STRING = {"dtype": "string", "_type": "Value"}
GSM8K_FEATURES = {"question": STRING, "answer": STRING}
MMLU_ANSWER_NAMES = ["A", "B", "C", "D"]
MMLU_FEATURES = {
    "question": STRING,
    "subject": STRING,
    "choices": {"feature": STRING, "_type": "Sequence"},  # the legacy form, as on cais/mmlu
    "answer": {"names": MMLU_ANSWER_NAMES, "_type": "ClassLabel"},
}
MMLU_SUBJECTS = ["abstract_algebra", "anatomy", "astronomy", "business_ethics"]
#: The MMLU-like config whose parquet files carry no ``huggingface`` metadata, so its
#: Features (a ClassLabel) can only come from the README's ``dataset_info``.
MMLU_NO_METADATA_CONFIG = "astronomy"
HH_FOLDERS = ["harmless-base", "helpful-base", "helpful-online", "helpful-rejection-sampled"]


def parquet_bytes(
    columns: dict[str, list[Any]],
    features: dict[str, Any] | None,
    *,
    types: dict[str, pa.DataType] | None = None,
    row_group_size: int | None = None,
) -> bytes:
    """A parquet file as ``datasets`` writes it (``features=None``: no ``huggingface`` key)."""
    types = types or {}
    arrays = {name: pa.array(values, type=types.get(name)) for name, values in columns.items()}
    table = pa.table(arrays)
    if features is not None:
        meta = {"huggingface": json.dumps({"info": {"features": features}})}
        table = table.replace_schema_metadata(meta)
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=row_group_size)
    return sink.getvalue()


def _yaml(obj: Any) -> str:
    import yaml

    return str(yaml.safe_dump(obj, sort_keys=False, allow_unicode=True))


def readme(metadata: dict[str, Any], body: str) -> bytes:
    """A dataset card: YAML front matter, then a markdown body."""
    return f"---\n{_yaml(metadata)}---\n\n{body}\n".encode()


# --------------------------------------------------------------------------------------------
# openai/gsm8k: configs main / socratic, each a folder of parquet shards, declared in YAML
# --------------------------------------------------------------------------------------------


def _gsm8k_rows(data_dir: Path, name: str) -> dict[str, list[str]]:
    lines = lzma.decompress((data_dir / f"{name}.xz").read_bytes())
    frame = pl.read_ndjson(io.BytesIO(lines), schema={"question": pl.String, "answer": pl.String})
    return {"question": frame["question"].to_list(), "answer": frame["answer"].to_list()}


@lru_cache(maxsize=2)
def gsm8k_files(data_dir: Path = GSM8K_DATA) -> dict[str, bytes]:
    """The layout of ``openai/gsm8k``, built from the GSM8K JSON lines (xz) in ``data_dir``.

    ``main`` holds the real train and test splits. The data folder has no socratic train
    split, so ``socratic/train`` holds the first 1000 rows of ``test_socratic.jsonl`` and
    ``socratic/test`` the rest: same layout and schema, fewer rows.
    """
    socratic = _gsm8k_rows(data_dir, "test_socratic.jsonl")
    splits = {
        ("main", "train"): _gsm8k_rows(data_dir, "train.jsonl"),
        ("main", "test"): _gsm8k_rows(data_dir, "test.jsonl"),
        ("socratic", "train"): {k: v[:1000] for k, v in socratic.items()},
        ("socratic", "test"): {k: v[1000:] for k, v in socratic.items()},
    }
    files = {
        f"{config}/{split}-00000-of-00001.parquet": parquet_bytes(rows, GSM8K_FEATURES)
        for (config, split), rows in splits.items()
    }
    yaml_features = [{"name": "question", "dtype": "string"}, {"name": "answer", "dtype": "string"}]
    metadata = {
        "language": ["en"],
        "license": ["mit"],
        "task_categories": ["text2text-generation"],
        "paperswithcode_id": "gsm8k",
        "pretty_name": "Grade School Math 8K",
        "tags": ["math-word-problems"],
        "dataset_info": [
            {
                "config_name": config,
                "features": yaml_features,
                "splits": [
                    {"name": split, "num_examples": len(splits[(config, split)]["question"])}
                    for split in ("train", "test")
                ],
            }
            for config in ("main", "socratic")
        ],
        "configs": [
            {
                "config_name": config,
                "data_files": [
                    {"split": split, "path": f"{config}/{split}-*"} for split in ("train", "test")
                ],
            }
            for config in ("main", "socratic")
        ],
    }
    files["README.md"] = readme(metadata, "# Dataset Card for GSM8K\n\nGrade school math.")
    files[".gitattributes"] = b"*.parquet filter=lfs diff=lfs merge=lfs -text\n"
    return files


def add_gsm8k(hub: HubServer, repo_id: str = "openai/gsm8k", **kwargs: Any) -> str:
    """Commit the GSM8K layout to ``repo_id``; returns the commit sha."""
    return hub.add_repo(repo_id, gsm8k_files(), **kwargs)


# --------------------------------------------------------------------------------------------
# cais/mmlu: one YAML config per subject plus "all" and "auxiliary_train";
# splits test / validation / dev (/ auxiliary_train)
# --------------------------------------------------------------------------------------------


def _mmlu_rows(subject: str, split: str, n: int) -> dict[str, list[Any]]:
    return {
        "question": [f"{subject} {split} question {i}?" for i in range(n)],
        "subject": [subject] * n,
        "choices": [[f"{subject}-{i}-{c}" for c in "abcd"] for i in range(n)],
        "answer": [(i * 7 + len(subject)) % 4 for i in range(n)],
    }


_MMLU_SIZES = {"test": 6, "validation": 3, "dev": 2}
_MMLU_TYPES = {"answer": pa.int64(), "choices": pa.list_(pa.string())}


def _concat(parts: list[dict[str, list[Any]]]) -> dict[str, list[Any]]:
    return {key: [v for part in parts for v in part[key]] for key in parts[0]}


@lru_cache(maxsize=1)
def mmlu_files() -> dict[str, bytes]:
    """The layout of ``cais/mmlu`` (4 subjects), with small synthetic rows."""
    files: dict[str, bytes] = {}
    per_split: dict[str, list[dict[str, list[Any]]]] = {s: [] for s in _MMLU_SIZES}
    yaml_features = [
        {"name": "question", "dtype": "string"},
        {"name": "subject", "dtype": "string"},
        {"name": "choices", "sequence": "string"},
        {
            "name": "answer",
            "dtype": {"class_label": {"names": {str(i): n for i, n in enumerate("ABCD")}}},
        },
    ]
    configs: list[dict[str, Any]] = []
    infos: list[dict[str, Any]] = []
    for subject in MMLU_SUBJECTS:
        features = None if subject == MMLU_NO_METADATA_CONFIG else MMLU_FEATURES
        for split, n in _MMLU_SIZES.items():
            rows = _mmlu_rows(subject, split, n)
            per_split[split].append(rows)
            path = f"{subject}/{split}-00000-of-00001.parquet"
            files[path] = parquet_bytes(rows, features, types=_MMLU_TYPES)
        configs.append(
            {
                "config_name": subject,
                "data_files": [
                    {"split": s, "path": f"{subject}/{s}-*"} for s in ("test", "validation", "dev")
                ],
            }
        )
        infos.append({"config_name": subject, "features": yaml_features})
    auxiliary = _mmlu_rows("auxiliary", "train", 5)
    for split, parts in per_split.items():
        files[f"all/{split}-00000-of-00001.parquet"] = parquet_bytes(
            _concat(parts), MMLU_FEATURES, types=_MMLU_TYPES
        )
    files["all/auxiliary_train-00000-of-00001.parquet"] = parquet_bytes(
        auxiliary, MMLU_FEATURES, types=_MMLU_TYPES
    )
    files["auxiliary_train/train-00000-of-00001.parquet"] = parquet_bytes(
        auxiliary, MMLU_FEATURES, types=_MMLU_TYPES
    )
    configs.insert(
        1,
        {
            "config_name": "all",
            "data_files": [
                {"split": s, "path": f"all/{s}-*"}
                for s in ("test", "validation", "dev", "auxiliary_train")
            ],
        },
    )
    configs.insert(
        4,
        {
            "config_name": "auxiliary_train",
            "data_files": [{"split": "train", "path": "auxiliary_train/train-*"}],
        },
    )
    infos += [
        {"config_name": "all", "features": yaml_features},
        {"config_name": "auxiliary_train", "features": yaml_features},
    ]
    metadata = {
        "language": ["en"],
        "license": ["mit"],
        "task_categories": ["question-answering"],
        "pretty_name": "Measuring Massive Multitask Language Understanding",
        "dataset_info": infos,
        "configs": configs,
    }
    files["README.md"] = readme(metadata, "# MMLU (tiny)\n")
    return files


def mmlu_config_names() -> list[str]:
    """The config names of :func:`mmlu_files`, in README order."""
    names = list(MMLU_SUBJECTS)
    names.insert(1, "all")
    names.insert(4, "auxiliary_train")
    return names


def add_mmlu(hub: HubServer, repo_id: str = "cais/mmlu", **kwargs: Any) -> str:
    """Commit the MMLU-like layout to ``repo_id``; returns the commit sha."""
    return hub.add_repo(repo_id, mmlu_files(), **kwargs)


# --------------------------------------------------------------------------------------------
# Anthropic/hh-rlhf: no YAML configs; */train.jsonl.gz and */test.jsonl.gz in subfolders
# --------------------------------------------------------------------------------------------


def _gz_lines(rows: list[dict[str, Any]]) -> bytes:
    text = "".join(json.dumps(row) + "\n" for row in rows).encode()
    return gzip.compress(text, mtime=0)


@lru_cache(maxsize=1)
def hh_rlhf_files() -> dict[str, bytes]:
    """The layout of ``Anthropic/hh-rlhf``, with small synthetic preference pairs."""
    files: dict[str, bytes] = {}
    for k, folder in enumerate(HH_FOLDERS):
        for split, n in (("train", 4 + k), ("test", 2)):
            rows = [
                {
                    "chosen": f"\n\nHuman: {folder} {split} {i}?\n\nAssistant: A kind answer.",
                    "rejected": f"\n\nHuman: {folder} {split} {i}?\n\nAssistant: No.",
                }
                for i in range(n)
            ]
            files[f"{folder}/{split}.jsonl.gz"] = _gz_lines(rows)
    red_team = [
        {"transcript": f"\n\nHuman: attempt {i}", "min_harmlessness_score_transcript": -1.5 + i}
        for i in range(3)
    ]
    files["red-team-attempts/red_team_attempts.jsonl.gz"] = _gz_lines(red_team)
    metadata = {"license": "mit", "tags": ["human-feedback"]}
    files["README.md"] = readme(metadata, "# Dataset Card for HH-RLHF\n")
    return files


def add_hh_rlhf(hub: HubServer, repo_id: str = "Anthropic/hh-rlhf", **kwargs: Any) -> str:
    """Commit the hh-rlhf-like layout to ``repo_id``; returns the commit sha."""
    return hub.add_repo(repo_id, hh_rlhf_files(), **kwargs)


# --------------------------------------------------------------------------------------------
# A legacy repo with only a loading script, and the Hub's refs/convert/parquet branch
# --------------------------------------------------------------------------------------------

SCRIPT_CONFIGS = {"plain_text": ("train", "validation"), "extra": ("train",)}


def script_repo_files(name: str) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """``({name}.py + README, refs/convert/parquet files)`` of a script-only dataset repo.

    The script raises if ever executed. The parquet branch has the Hub's layout,
    ``{config}/{split}/0000.parquet`` (``plain_text/train`` is split over two shards).
    """
    script = (
        b"raise SystemExit('crucible_polars must never run a loading script')\n"
        b"import datasets\n\nclass Legacy(datasets.GeneratorBasedBuilder):\n    pass\n"
    )
    main = {
        f"{name}.py": script,
        "README.md": readme({"license": "cc-by-4.0"}, f"# {name}\n\nA legacy script dataset."),
    }
    features = {
        "id": STRING,
        "text": STRING,
        "label": {"names": ["neg", "pos"], "_type": "ClassLabel"},
    }
    branch: dict[str, bytes] = {
        ".gitattributes": b"*.parquet filter=lfs diff=lfs merge=lfs -text\n"
    }
    for config, splits in SCRIPT_CONFIGS.items():
        for split in splits:
            shards = 2 if (config, split) == ("plain_text", "train") else 1
            for shard in range(shards):
                rows = {
                    "id": [f"{config}-{split}-{shard}-{i}" for i in range(3)],
                    "text": [f"{config} {split} text {shard}.{i}" for i in range(3)],
                    "label": [(shard + i) % 2 for i in range(3)],
                }
                path = f"{config}/{split}/{shard:04d}.parquet"
                branch[path] = parquet_bytes(rows, features, types={"label": pa.int64()})
    return main, branch


def add_script_only(hub: HubServer, repo_id: str, *, parquet_branch: bool = True) -> str:
    """Commit a script-only repo (and its parquet conversion); returns the main sha."""
    main, branch = script_repo_files(repo_id.rsplit("/", 1)[-1])
    sha = hub.add_repo(repo_id, main)
    if parquet_branch:
        hub.add_revision(repo_id, "refs/convert/parquet", branch)
    return sha


# --------------------------------------------------------------------------------------------
# Gated repos and repos whose main branch moved on from a pinned revision
# --------------------------------------------------------------------------------------------


def small_parquet_files(rows: dict[str, list[Any]]) -> dict[str, bytes]:
    """``data/train-00000-of-00001.parquet`` (features inferred by ``datasets``) + README."""
    return {
        "README.md": readme({"license": "mit"}, "# small\n"),
        "data/train-00000-of-00001.parquet": parquet_bytes(rows, None),
    }


def add_gated(hub: HubServer, repo_id: str, token: str) -> str:
    """A gated repo that only ``token`` may download from; returns the commit sha."""
    rows = {"prompt": ["a", "b", "c"], "score": [1, 2, 3]}
    return hub.add_repo(repo_id, small_parquet_files(rows), gated=True, tokens=[token])


def add_moving_repo(hub: HubServer, repo_id: str) -> tuple[str, str]:
    """A repo whose ``main`` moved on: ``(old_sha, new_sha)``; ``v1`` tags the old commit."""
    old = hub.add_repo(repo_id, small_parquet_files({"x": [1, 2, 3]}), message="v1")
    hub.add_tag(repo_id, "v1", old)
    new = hub.add_revision(repo_id, "main", small_parquet_files({"x": [10, 20]}), message="v2")
    return old, new
