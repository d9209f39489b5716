"""Stage 1: skeleton hashing, narrow frame, content sample, graceful degradation."""

from __future__ import annotations

import datetime as dt

import polars as pl

from distillguard.enrich import enrich_batch, enrich_frame


def _events(prompts: list[str | None], **extra: object) -> pl.DataFrame:
    n = len(prompts)
    return pl.DataFrame({
        "event_id": [f"e{i}" for i in range(n)],
        "ts": [dt.datetime(2026, 1, 1, tzinfo=dt.UTC)] * n,
        "account_id": [f"a{i % 3}" for i in range(n)],
        "model": ["m"] * n, "prompt": prompts,
        "input_tokens": [10] * n, "output_tokens": [20] * n, **extra,
    })


def test_template_with_different_payloads_shares_head_skeleton() -> None:
    t = "Solve the following problem and think step by step. Problem {}: what is {} + {}?"
    prompts = [t.format(i, i * 7, i * 13) for i in range(10)]
    prompts += ['Solve the following problem and think step by step. Problem 3: "quoted x"']
    narrow, _ = enrich_frame(_events(prompts))
    assert narrow.get_column("tpl_head").n_unique() == 1
    assert narrow.get_column("prompt_hash").n_unique() == len(prompts)


def test_suffix_template_shares_tail_skeleton() -> None:
    payloads = ["Who wrote Hamlet and when", "Explain photosynthesis", "Sort 5 3 1 with bubble sort"]
    prompts = [p + ". Show your complete chain of thought before the final answer." for p in payloads]
    narrow, _ = enrich_frame(_events(prompts))
    assert narrow.get_column("tpl_tail").n_unique() == 1
    assert narrow.get_column("tpl_head").n_unique() == 3


def test_different_templates_differ() -> None:
    narrow, _ = enrich_frame(_events(["Translate to French: the cat", "Summarise this: the cat"]))
    assert narrow.get_column("tpl_head").n_unique() == 2


def test_missing_prompt_and_optional_columns_degrade_to_nulls() -> None:
    narrow, sample = enrich_frame(_events([None, None]))
    assert narrow.get_column("tpl_head").null_count() == 2
    assert narrow.get_column("system_prompt_hash").null_count() == 2
    assert sample.height == 0
    ev = _events(["x", "y"]).drop("prompt")
    narrow, _ = enrich_frame(ev)
    assert narrow.get_column("prompt_hash").null_count() == 2
    assert "prompt" not in narrow.columns


def test_enrich_batch_is_pure_and_deterministic() -> None:
    ev = _events([f"Question {i}: why is the sky blue?" for i in range(20)]).to_arrow()
    a, sa = enrich_batch(ev)
    b, sb = enrich_batch(ev)
    assert a.equals(b) and sa.equals(sb)
    assert "prompt" not in a.column_names


def test_content_sample_is_bounded_per_account() -> None:
    from distillguard.enrich._enrich import SAMPLE_PER_ACCOUNT_PER_BATCH

    _, sample = enrich_frame(_events([f"prompt number {i}" for i in range(300)]))
    counts = sample.group_by("account_id").len().get_column("len")
    assert counts.max() <= SAMPLE_PER_ACCOUNT_PER_BATCH


def _uncached_hashes(prompts: list[str | None]) -> pl.DataFrame:
    """The skeleton hashes computed row by row from the expressions, no cache involved."""
    from distillguard.enrich import HASH_SEED
    from distillguard.enrich._skeleton import head_skeleton_expr, tail_skeleton_expr

    p = pl.col("prompt")
    return pl.DataFrame({"prompt": prompts}, schema={"prompt": pl.String()}).select(
        head_skeleton_expr(p).hash(HASH_SEED).alias("tpl_head"),
        tail_skeleton_expr(p).hash(HASH_SEED).alias("tpl_tail"),
    ).with_columns(pl.when(pl.lit(pl.Series(prompts, dtype=pl.String())).is_not_null())
                   .then(pl.all()))


def test_skeleton_cache_across_batches_equals_per_row_hashes() -> None:
    from distillguard.enrich import SkeletonCache

    t = "Solve step by step. Problem {}: what is {} + {}? Show your reasoning please."
    batches = [
        [t.format(i, i * 7, i * 13) for i in range(30)] + [None, "", "hi", "hi"],
        [t.format(i, i * 3, 5) for i in range(20)] + ["hi", None, "x" * 500, "Hello Bob"],
        [None, None],
        [],
    ]
    cache = SkeletonCache()
    for prompts in batches:
        narrow, _ = enrich_frame(_events(prompts), cache)
        assert narrow.select("tpl_head", "tpl_tail").equals(_uncached_hashes(prompts))
        alone, _ = enrich_frame(_events(prompts))
        assert alone.equals(narrow)


def test_skeleton_cache_full_or_colliding_still_hashes_every_row() -> None:
    import numpy as np

    from distillguard.enrich import HASH_SEED, SkeletonCache
    from distillguard.enrich._skeleton import _KEY_SEEDS

    prompts = [f"Translate item {i} to French: the cat sat" for i in range(10)] + ["Other"]
    full = SkeletonCache(max_windows=0)  # remembers nothing
    for _ in range(2):
        got = full.hashes("head", pl.Series(prompts), HASH_SEED)
        assert got.to_frame("tpl_head").equals(_uncached_hashes(prompts).select("tpl_head"))
    # plant a colliding entry: the window's key with a wrong check and a wrong value
    cache = SkeletonCache()
    key = pl.Series(["Other"]).hash(_KEY_SEEDS[0]).to_numpy()
    cache._keys["head"] = key.astype(np.uint64)
    cache._checks["head"] = np.array([1], dtype=np.uint64)
    cache._values["head"] = np.array([2], dtype=np.uint64)
    got = cache.hashes("head", pl.Series(prompts), HASH_SEED)
    assert got.to_frame("tpl_head").equals(_uncached_hashes(prompts).select("tpl_head"))
