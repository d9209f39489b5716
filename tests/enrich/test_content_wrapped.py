"""Content classifiers meet instructions inside a window full of payload (a problem, an
answer to grade); training on wrapped examples is what lets them see the instruction."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import polars as pl
import pytest

import distillguard.enrich.content as content
from distillguard.enrich.content import classify_prompts, wrapped_examples

# payloads written for this test (not in the example set)
PROBLEM = ("A farmer has 17 sheep and buys 3 more each week for 9 weeks, then sells a quarter of "
           "the flock to a neighbour who already owns 40 goats. The market price is 120 dollars "
           "per sheep. How much money does the farmer receive, and how many sheep remain?")
ANSWER = ("Answer: The capital of Mongolia is Ulaanbaatar, which is also its largest city, located "
          "in the north central part of the country on the Tuul River, with about half of the "
          "national population.")
PLAIN = [PROBLEM, ANSWER, "Could you recommend a few novels like The Remains of the Day? " + ANSWER]
COT = [f"{PROBLEM} Reason carefully and write down each intermediate step before the final answer.",
       f"Resuelve el problema pensando paso a paso y muestra todo el razonamiento. {PROBLEM}",
       f"{PROBLEM} 请一步一步推理，写出完整的思考过程，再给出最终答案。"]
RUBRIC = [f"Please act as an impartial judge and grade the assistant reply below from 1 to 10, "
          f"returning JSON with a score and a short rationale. {ANSWER}",
          f"{ANSWER} Evaluate the response above against the rubric and output a numeric rating."]


def _margin(intent: str, positives: list[str]) -> float:
    p = classify_prompts(pl.Series(positives + PLAIN)).get_column(f"p_{intent}").to_numpy()
    return float(p[: len(positives)].min() - p[len(positives):].max())


@pytest.fixture
def retrain(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    content.content_model.cache_clear()
    yield
    monkeypatch.undo()
    content.content_model.cache_clear()


def test_wrapped_instructions_score_above_the_bare_payloads() -> None:
    assert _margin("cot", COT) > 0.05
    assert _margin("rubric", RUBRIC) > 0.05


def test_training_on_wrapped_examples_widens_the_margin(
    retrain: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(content, "WRAPS_PER_EXAMPLE", 0)
    bare = (_margin("cot", COT), _margin("rubric", RUBRIC))
    content.content_model.cache_clear()
    monkeypatch.setattr(content, "WRAPS_PER_EXAMPLE", 2)
    wrapped = (_margin("cot", COT), _margin("rubric", RUBRIC))
    assert wrapped[0] > bare[0] and wrapped[1] > bare[1]


def test_wrapping_is_deterministic_and_windowed() -> None:
    intents = {"cot": ["Think step by step."], "ordinary": ["hi"]}
    payloads = ["What is the capital of Peru?", "Write a haiku about rain."]
    a = wrapped_examples(intents, payloads, per_example=2)
    b = wrapped_examples(intents, payloads, per_example=2)
    assert a == b
    texts, labels, weights = a
    # bare cot, (wrapped cot, same payload alone as ordinary) x 2, bare ordinary, wrapped x 2
    assert labels == ["cot", "cot", "ordinary", "cot", "ordinary", "ordinary", "ordinary",
                      "ordinary"]
    assert weights == [1.0] + [0.5] * 4 + [1.0, 0.5, 0.5]
    assert all(len(t) <= content.WINDOW_CHARS for t in texts)
    assert texts[1].startswith("Think step by step.") and texts[3].endswith("Think step by step.")
    # the paired payload window: the same payload, without the instruction
    assert "Think step" not in texts[2]
    assert texts[2].startswith(texts[1][len("Think step by step. "):])
    assert np.mean([len(t) for t in (texts[1], texts[3])]) > 100  # filled, not bare
