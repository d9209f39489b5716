"""Content classifiers: learned from multilingual examples, robust to paraphrase."""

from __future__ import annotations

import numpy as np
import polars as pl

from distillguard.enrich._ngrams import feature_matrix, linear_scores
from distillguard.enrich.content import classify_prompts

ORDINARY = ["What's the best way to store fresh basil?", "Book me a table for two at 8pm",
            "¿Qué hora es en Madrid?", "明天北京的天气怎么样？"]


def test_paraphrased_reasoning_requests_score_above_ordinary_prompts() -> None:
    # paraphrases and languages whose exact wording is not in the example set
    cot = ["Please reason through each step carefully and write down all your thinking first.",
           "Razona cada paso con cuidado y escribe todo tu proceso antes de contestar.",
           "Zeige bitte jeden einzelnen Denkschritt, bevor du antwortest.",
           "在回答之前，请一步步写出完整的思考过程。"]
    p = classify_prompts(pl.Series(cot + ORDINARY)).get_column("p_cot").to_numpy()
    assert p[: len(cot)].min() > p[len(cot):].max()


def test_grading_requests_score_above_ordinary_prompts() -> None:
    grade = ["Score the candidate's reply from 1 to 10 against these criteria.",
             "Puntúa esta respuesta del 1 al 10 según los criterios."]
    p = classify_prompts(pl.Series(grade + ORDINARY)).get_column("p_rubric").to_numpy()
    assert p[: len(grade)].min() > p[len(grade):].max()


def test_tool_requests_are_tool_area() -> None:
    out = classify_prompts(pl.Series(["what's the weather", "hi"]), pl.Series([3, 0]))
    assert out.get_column("area").to_list()[0] == "tools"


def test_vectorised_scoring_matches_sparse_matrix_product() -> None:
    texts = ["hello world", "Think step by step", "", "数学の問題"]
    rng = np.random.default_rng(0)
    coef = rng.normal(size=(2, feature_matrix(["x"]).shape[1]))
    icpt = np.array([0.1, -0.2])
    dense = feature_matrix(texts) @ coef.T + icpt
    assert np.allclose(linear_scores(texts, coef, icpt), dense)


def test_empty_input() -> None:
    assert classify_prompts(pl.Series([], dtype=pl.String)).height == 0
