"""cp.catalog: the tinker-cookbook datasets by short name."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

import crucible_polars.load
from crucible_polars import catalog

#: The datasets issue 4 names, which the catalog must hold.
ISSUE_REPOS = {
    "openai/gsm8k",
    "cais/mmlu",
    "openai/openai_humaneval",
    "HuggingFaceH4/no_robots",
    "allenai/tulu-3-sft-mixture",
    "open-thoughts/OpenThoughts3-1.2M",
    "Anthropic/hh-rlhf",
    "nvidia/HelpSteer3",
    "HuggingFaceH4/MATH-500",
    "EleutherAI/hendrycks_math",
    "agentica-org/DeepCoder-Preview-Dataset",
    "dpdl-benchmark/caltech101",
    "dpdl-benchmark/oxford_flowers102",
    "dpdl-benchmark/oxford_iiit_pet",
    "tanganke/stanford_cars",
}


def test_list_is_a_frame_of_every_entry() -> None:
    frame = catalog.list()
    assert frame.schema == pl.Schema(
        {
            "short_name": pl.String,
            "repo_id": pl.String,
            "task": pl.String,
            "configs": pl.List(pl.String),
            "splits": pl.List(pl.String),
            "columns": pl.List(pl.String),
            "default_config": pl.String,
            "streaming_recommended": pl.Boolean,
            "description": pl.String,
            "source": pl.String,
        }
    )
    assert set(frame["repo_id"]) >= ISSUE_REPOS
    assert frame["short_name"].is_unique().all() and frame["repo_id"].is_unique().all()
    assert set(frame["task"]) <= set(catalog.TASKS)
    assert frame.filter(pl.col("splits").list.len() == 0).is_empty()
    assert frame.filter(pl.col("columns").list.len() == 0).is_empty()
    assert frame.filter(pl.col("source") == "").is_empty(), "every fact says where it is from"
    assert frame.filter("streaming_recommended")["short_name"].to_list() == ["openthoughts3"]
    assert catalog.list(task="vision").height == 4
    with pytest.raises(ValueError, match="Unknown task"):
        catalog.list(task="cooking")


def test_entries_match_the_cookbook_calls() -> None:
    gsm8k = catalog.get("gsm8k")
    assert (gsm8k.repo_id, gsm8k.default_config) == ("openai/gsm8k", "main")
    assert gsm8k.configs == ("main", "socratic") and gsm8k.splits == ("train", "test")
    assert catalog.get("helpsteer3").configs == ("preference",)
    assert catalog.get("helpsteer3").splits == ("train", "validation")
    assert set(catalog.get("deepcoder").configs) == {
        "primeintellect",
        "taco",
        "lcbv5",
        "codeforces",
    }
    mmlu = catalog.get("mmlu")
    assert len(mmlu.configs) == 59 and {"all", "abstract_algebra"} <= set(mmlu.configs)
    assert mmlu.splits == ("test", "validation", "dev", "auxiliary_train")
    assert len(catalog.get("hendrycks_math").configs) == 7
    assert catalog.get("hendrycks_math").default_config is None
    for name in ("caltech101", "flowers102", "oxford_pets", "stanford_cars"):
        assert catalog.get(name).columns == ("image", "label")


def test_every_name_resolves_to_its_own_entry() -> None:
    for entry in catalog.entries():
        names = (entry.short_name, *entry.aliases, entry.repo_id.split("/")[1])
        for name in names:
            assert catalog.get(name) is entry, name
            assert catalog.resolve_short_name(name) == entry.repo_id
            assert catalog.resolve_short_name(name.upper()) == entry.repo_id


def test_resolve_short_name() -> None:
    assert catalog.resolve_short_name("gsm8k") == "openai/gsm8k"
    assert catalog.resolve_short_name("MATH-500") == "HuggingFaceH4/MATH-500"
    assert catalog.resolve_short_name("openai_humaneval") == "openai/openai_humaneval"
    assert catalog.resolve_short_name("openai/gsm8k") is None, "already a repo id"
    assert catalog.resolve_short_name("./gsm8k") is None
    assert catalog.resolve_short_name("no-such-dataset") is None


def test_get_unknown_suggests_close_names() -> None:
    with pytest.raises(KeyError, match="Did you mean: gsm8k"):
        catalog.get("gsm8")
    with pytest.raises(KeyError, match=r"catalog\.list\(\)"):
        catalog.get("zzzz")


def test_entry_load_passes_default_config_and_streaming(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def fake_load_dataset(*args: Any, **kwargs: Any) -> str:
        calls.append((args, kwargs))
        return "loaded"

    monkeypatch.setattr(crucible_polars.load, "load_dataset", fake_load_dataset)
    assert catalog.get("gsm8k").load(split="test") == "loaded"
    assert catalog.get("openthoughts3").load(split="train") == "loaded"
    catalog.get("gsm8k").load(name="socratic", streaming=True)
    assert calls == [
        (("openai/gsm8k",), {"split": "test", "name": "main", "streaming": False}),
        (
            ("open-thoughts/OpenThoughts3-1.2M",),
            {"split": "train", "name": None, "streaming": True},
        ),
        (("openai/gsm8k",), {"split": None, "name": "socratic", "streaming": True}),
    ]
