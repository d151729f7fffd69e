"""The catalog's records: the datasets the tinker-cookbook recipes load, as data.

Looked up by :mod:`crucible_polars.resolve.catalog_table`; see :mod:`crucible_polars.catalog`
for where the facts come from.

Examples
--------
>>> ENTRIES[0].task in TASKS
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: The task vocabulary of :attr:`CatalogRecord.task`.
TASKS = ("math", "chat", "preference", "code", "reasoning", "vision", "eval")


@dataclass(frozen=True)
class CatalogRecord:
    """One dataset the tinker-cookbook recipes load: the facts
    (:class:`crucible_polars.catalog.CatalogEntry` adds ``load``).

    Attributes
    ----------
    short_name : str
        The catalog key (``cp.load_dataset(short_name)`` works).
    repo_id : str
        The Hub dataset repository.
    task : str
        One of :data:`TASKS`.
    configs : tuple of str
        Config names (``name=``); empty when only the default config is known.
    splits : tuple of str
        Split names (the union over configs).
    columns : tuple of str
        The columns that matter: those the recipes read (or the card lists).
    default_config : str or None
        The config to load when none is given; ``None`` when the repository has no default
        (pass ``name=``) or it is the repository's only config.
    streaming_recommended : bool
        Large enough that ``streaming=True`` is the sensible way to read it.
    description : str
        What it is and how the recipes use it.
    source : str
        Where these facts come from (see the module docstring).
    aliases : tuple of str
        Other names that resolve to this entry.

    Examples
    --------
    >>> entry = next(e for e in ENTRIES if e.short_name == "hh_rlhf")
    >>> entry.repo_id, entry.splits
    ('Anthropic/hh-rlhf', ('train', 'test'))
    """

    short_name: str
    repo_id: str
    task: str
    configs: tuple[str, ...]
    splits: tuple[str, ...]
    columns: tuple[str, ...]
    default_config: str | None = None
    streaming_recommended: bool = False
    description: str = ""
    source: str = ""
    aliases: tuple[str, ...] = field(default=())


_COOKBOOK = "https://github.com/thinking-machines-lab/tinker-cookbook"

# The 57 MMLU subjects (the task list of Hendrycks et al., 2021); cais/mmlu has one config per
# subject, plus "all" and "auxiliary_train" (card dataset_info: abstract_algebra, all, ...).
_MMLU_SUBJECTS = (
    "abstract_algebra",
    "anatomy",
    "astronomy",
    "business_ethics",
    "clinical_knowledge",
    "college_biology",
    "college_chemistry",
    "college_computer_science",
    "college_mathematics",
    "college_medicine",
    "college_physics",
    "computer_security",
    "conceptual_physics",
    "econometrics",
    "electrical_engineering",
    "elementary_mathematics",
    "formal_logic",
    "global_facts",
    "high_school_biology",
    "high_school_chemistry",
    "high_school_computer_science",
    "high_school_european_history",
    "high_school_geography",
    "high_school_government_and_politics",
    "high_school_macroeconomics",
    "high_school_mathematics",
    "high_school_microeconomics",
    "high_school_physics",
    "high_school_psychology",
    "high_school_statistics",
    "high_school_us_history",
    "high_school_world_history",
    "human_aging",
    "human_sexuality",
    "international_law",
    "jurisprudence",
    "logical_fallacies",
    "machine_learning",
    "management",
    "marketing",
    "medical_genetics",
    "miscellaneous",
    "moral_disputes",
    "moral_scenarios",
    "nutrition",
    "philosophy",
    "prehistory",
    "professional_accounting",
    "professional_law",
    "professional_medicine",
    "professional_psychology",
    "public_relations",
    "security_studies",
    "sociology",
    "us_foreign_policy",
    "virology",
    "world_religions",
)

_MATH_SUBJECTS = (
    "algebra",
    "counting_and_probability",
    "geometry",
    "intermediate_algebra",
    "number_theory",
    "prealgebra",
    "precalculus",
)

_VISION_SOURCE = (
    "cookbook recipes/vlm_classifier/data.py: split train/test, image_column_name='image', "
    "label_column_name='label' (a ClassLabel: the recipe calls int2str)"
)

ENTRIES: tuple[CatalogRecord, ...] = (
    # ---------------------------------------------------------------- math
    CatalogRecord(
        "gsm8k",
        "openai/gsm8k",
        "math",
        configs=("main", "socratic"),
        splits=("train", "test"),
        columns=("question", "answer"),
        default_config="main",
        description="Grade-school math word problems; the final answer follows '####'. "
        "RL environment (math_rl) and the gsm8k eval benchmark.",
        source="cookbook recipes/math_rl/math_env.py and eval/benchmarks/gsm8k.py "
        "(name='main', splits train/test, fields question/answer); card dataset_info: "
        "configs main/socratic, features question/answer, 7473 train / 1319 test rows",
    ),
    CatalogRecord(
        "math500",
        "HuggingFaceH4/MATH-500",
        "math",
        configs=("default",),
        splits=("test",),
        columns=("problem", "solution", "answer"),
        description="500 held-out MATH competition problems; the test set of math_rl and "
        "the math500 eval benchmark (answer in \\boxed{} of the solution).",
        source="cookbook recipes/math_rl/math_env.py (name='default', split='test', fields "
        "problem/solution) and eval/benchmarks/math500.py; 'answer' per derived cards "
        "(rasbt/math_full_minus_math500: 'matches those in the MATH-500 dataset')",
        aliases=("math-500",),
    ),
    CatalogRecord(
        "hendrycks_math",
        "EleutherAI/hendrycks_math",
        "math",
        configs=_MATH_SUBJECTS,
        splits=("train", "test"),
        columns=("problem", "level", "type", "solution"),
        description="The 12.5k MATH problems by subject (one config each, no default); "
        "math_rl trains on train+test of every config minus the MATH-500 problems.",
        source="cookbook recipes/math_rl/math_env.py (get_dataset_config_names, splits "
        "train/test, fields problem/solution); subject configs and features per the MATH "
        "cards derived from hendrycks/competition_math (lighteval/MATH-Hard)",
        aliases=("competition_math",),
    ),
    CatalogRecord(
        "polaris",
        "POLARIS-Project/Polaris-Dataset-53K",
        "math",
        configs=(),
        splits=("train",),
        columns=("problem", "answer"),
        description="53k math problems with short answers (math_rl PolarisDataset).",
        source="cookbook recipes/math_rl/math_env.py (split='train', fields problem/answer)",
        aliases=("polaris-dataset-53k",),
    ),
    CatalogRecord(
        "deepmath",
        "zwhe99/DeepMath-103K",
        "math",
        configs=(),
        splits=("train",),
        columns=("question", "final_answer"),
        description="103k math problems with final answers (math_rl DeepMathDataset).",
        source="cookbook recipes/math_rl/math_env.py (split='train', fields question/final_answer)",
        aliases=("deepmath-103k",),
    ),
    CatalogRecord(
        "dapo_math",
        "BytedTsinghua-SIA/DAPO-Math-17k",
        "math",
        configs=(),
        splits=("train",),
        columns=("prompt", "reward_model"),
        description="DAPO-Math-17k: chat-format prompts, ground truth in "
        "reward_model.ground_truth (math_rl DAPODataset; the recipe de-duplicates prompts).",
        source="cookbook recipes/math_rl/math_env.py (split='train', fields prompt/reward_model)",
        aliases=("dapo-math-17k",),
    ),
    # ---------------------------------------------------------------- chat (SFT)
    CatalogRecord(
        "no_robots",
        "HuggingFaceH4/no_robots",
        "chat",
        configs=("default",),
        splits=("train", "test"),
        columns=("prompt", "prompt_id", "messages", "category"),
        description="10k human-written instructions and demonstrations (chat_sl SFT on "
        "'messages').",
        source="cookbook recipes/chat_sl/chat_datasets.py (splits train/test, field "
        "messages); card configs/dataset_info (9500 train rows)",
    ),
    CatalogRecord(
        "tulu3_sft",
        "allenai/tulu-3-sft-mixture",
        "chat",
        configs=("default",),
        splits=("train",),
        columns=("id", "messages", "source"),
        description="The Tulu 3 SFT mixture (~939k conversations); chat_sl shuffles train "
        "and holds out 1024 rows as test.",
        source="cookbook recipes/chat_sl/chat_datasets.py (split train, field messages); "
        "card configs/dataset_info (939,343 train rows)",
        aliases=("tulu-3-sft-mixture", "tulu3"),
    ),
    CatalogRecord(
        "lean_workbook",
        "internlm/Lean-Workbook",
        "chat",
        configs=(),
        splits=("train",),
        columns=("formal_statement", "state_before", "tactic", "status"),
        description="Lean proof states as next-tactic SFT examples (rows with "
        "status == 'proved' and a tactic).",
        source="cookbook recipes/chat_sl/chat_datasets.py (split train, fields "
        "formal_statement/state_before/tactic/status)",
        aliases=("lean-workbook",),
    ),
    # ---------------------------------------------------------------- reasoning
    CatalogRecord(
        "openthoughts3",
        "open-thoughts/OpenThoughts3-1.2M",
        "reasoning",
        configs=(),
        splits=("train",),
        columns=("conversations",),
        streaming_recommended=True,
        description="1.2M reasoning traces (ShareGPT 'conversations' of {from, value}); "
        "the off-policy distillation recipe streams it.",
        source="cookbook recipes/distillation/off_policy_reasoning.py "
        "(split='train', streaming=True, field conversations with from/value)",
        aliases=("openthoughts3-1.2m", "openthoughts"),
    ),
    # ---------------------------------------------------------------- preference
    CatalogRecord(
        "hh_rlhf",
        "Anthropic/hh-rlhf",
        "preference",
        configs=(),
        splits=("train", "test"),
        columns=("chosen", "rejected"),
        description="Helpful/harmless preference pairs as '*/train.jsonl.gz' and "
        "'*/test.jsonl.gz' in subfolders (harmless-base, helpful-base, helpful-online, "
        "helpful-rejection-sampled; red-team-attempts): pick one with data_dir=.",
        source="cookbook recipes/preference/datasets.py (splits train/test, fields "
        "chosen/rejected); card: 'each line of the jsonl files contains a pair of texts, one "
        '"chosen" and one "rejected"\', no configs: block in the current README',
        aliases=("hh-rlhf", "anthropic_hh"),
    ),
    CatalogRecord(
        "helpsteer3",
        "nvidia/HelpSteer3",
        "preference",
        configs=("preference",),
        splits=("train", "validation"),
        columns=("domain", "language", "context", "response1", "response2", "overall_preference"),
        default_config="preference",
        description="Human preference between two responses (overall_preference -3..3; "
        "the recipe skips ties and uses validation as test).",
        source="cookbook recipes/preference/datasets.py (name='preference', splits "
        "train/validation, fields context/response1/response2/overall_preference); "
        "domain/language per the HelpSteer3-Preference description",
    ),
    CatalogRecord(
        "helpsteer2",
        "nvidia/HelpSteer2",
        "preference",
        configs=(),
        splits=("train",),
        columns=("prompt", "response", "helpfulness"),
        description="Single responses with attribute scores; the recipe pairs the best and "
        "worst response per prompt by helpfulness.",
        source="cookbook recipes/preference/datasets.py (split train, fields "
        "prompt/response/helpfulness)",
    ),
    CatalogRecord(
        "tulu3_preference",
        "allenai/llama-3.1-tulu-3-8b-preference-mixture",
        "preference",
        configs=(),
        splits=("train",),
        columns=("prompt", "chosen", "rejected"),
        description="Tulu 3 8B preference mixture (chosen/rejected are message lists).",
        source="cookbook recipes/preference/datasets.py (split train, fields "
        "prompt/chosen/rejected)",
    ),
    CatalogRecord(
        "ultrafeedback",
        "argilla/ultrafeedback-binarized-preferences",
        "preference",
        configs=(),
        splits=("train",),
        columns=("instruction", "chosen_response", "rejected_response"),
        description="Binarized UltraFeedback preferences.",
        source="cookbook recipes/preference/datasets.py (split train, fields "
        "instruction/chosen_response/rejected_response)",
    ),
    CatalogRecord(
        "arena_140k",
        "lmarena-ai/arena-human-preference-140k",
        "preference",
        configs=(),
        splits=("train",),
        columns=("conversation_a", "conversation_b", "winner"),
        description="Chatbot Arena human votes between two conversations.",
        source="cookbook recipes/preference/datasets.py (split train, fields "
        "conversation_a/conversation_b/winner)",
        aliases=("arena-human-preference-140k",),
    ),
    # ---------------------------------------------------------------- code
    CatalogRecord(
        "deepcoder",
        "agentica-org/DeepCoder-Preview-Dataset",
        "code",
        configs=("primeintellect", "taco", "lcbv5", "codeforces"),
        splits=("train", "test"),
        columns=("problem", "tests", "metadata"),
        description="Competitive-programming problems with tests; train = primeintellect + "
        "taco + lcbv5, test = codeforces + lcbv5 (no default config: pass name=).",
        source="cookbook recipes/code_rl/code_env.py (configs and splits as listed; reads "
        "problem/tests/metadata, falling back to question/prompt, ground_truth, "
        "starter_code)",
        aliases=("deepcoder-preview-dataset",),
    ),
    # ---------------------------------------------------------------- evaluation benchmarks
    CatalogRecord(
        "mmlu",
        "cais/mmlu",
        "eval",
        configs=("all", "auxiliary_train", *_MMLU_SUBJECTS),
        splits=("test", "validation", "dev", "auxiliary_train"),
        columns=("question", "subject", "choices", "answer"),
        default_config="all",
        description="Massive Multitask Language Understanding: 4-choice questions over 57 "
        "subjects; answer is a ClassLabel A-D. 'all' has test/validation/dev/auxiliary_train.",
        source="issue; card dataset_info (configs abstract_algebra/all/anatomy/..., "
        "features question/subject/choices/answer, 'all' splits test 14042, validation 1531, "
        "dev 285, auxiliary_train 99842)",
    ),
    CatalogRecord(
        "humaneval",
        "openai/openai_humaneval",
        "eval",
        configs=("openai_humaneval",),
        splits=("test",),
        columns=("task_id", "prompt", "canonical_solution", "test", "entry_point"),
        description="164 hand-written Python programming problems with unit tests.",
        source="issue; card configs (openai_humaneval, default: true, split test) and "
        "dataset_info features, 164 rows",
        aliases=("openai_humaneval",),
    ),
    # ---------------------------------------------------------------- vision classification
    CatalogRecord(
        "caltech101",
        "dpdl-benchmark/caltech101",
        "vision",
        configs=(),
        splits=("train", "test"),
        columns=("image", "label"),
        description="Caltech-101 object categories (vlm_classifier).",
        source=_VISION_SOURCE,
    ),
    CatalogRecord(
        "flowers102",
        "dpdl-benchmark/oxford_flowers102",
        "vision",
        configs=(),
        splits=("train", "test"),
        columns=("image", "label"),
        description="Oxford Flowers-102 (vlm_classifier).",
        source=_VISION_SOURCE,
        aliases=("oxford_flowers102",),
    ),
    CatalogRecord(
        "oxford_pets",
        "dpdl-benchmark/oxford_iiit_pet",
        "vision",
        configs=(),
        splits=("train", "test"),
        columns=("image", "label"),
        description="Oxford-IIIT Pet breeds (vlm_classifier).",
        source=_VISION_SOURCE,
        aliases=("oxford_iiit_pet",),
    ),
    CatalogRecord(
        "stanford_cars",
        "tanganke/stanford_cars",
        "vision",
        configs=(),
        splits=("train", "test"),
        columns=("image", "label"),
        description="Stanford Cars, 196 make/model/year classes (vlm_classifier).",
        source=_VISION_SOURCE,
        aliases=("cars196",),
    ),
)
