from __future__ import annotations

import polars as pl

from distillguard.graph.evaluate import metrics


def test_purity_recall_and_resold_fpr() -> None:
    acc = pl.DataFrame(
        {
            "account_id": [f"x{i}" for i in range(12)],
            "cluster_id": ["A"] * 10 + ["B", None],
            "flagged": [True] * 9 + [False, True, False],
            "part1_flagged": [True] * 5 + [False] * 7,
        }
    )
    labels = pl.DataFrame(
        {
            "account_id": [f"x{i}" for i in range(12)],
            "label": ["distillation"] * 8 + ["benign"] * 2 + ["distillation", "benign"],
            "campaign": ["k"] * 8 + [None, None, "k", None],
            "persona": ["attacker"] * 8
            + ["resold_customer"] * 2
            + ["low_and_slow", "resold_customer"],
        }
    )
    ls = labels.filter(pl.col("label") == "distillation").select(
        "account_id", (pl.col("persona") == "low_and_slow").alias("low_slow")
    )
    m = metrics(acc, labels, ls, "resold")
    (c,) = m["campaigns"]
    assert c["recall"] == 1.0 and c["recall_part1"] == round(5 / 9, 4)
    # cluster A's flagged members: 8 of campaign k + 1 benign -> 8/9 < 0.9: not pure;
    # cluster B: pure. So 1 of 9 flagged campaign accounts sits in a pure cluster.
    assert c["purity"] == round(1 / 9, 4)
    assert m["resold"]["fpr"] == round(1 / 3, 5)
