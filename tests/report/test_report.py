"""The HTML report is self-contained and shows what the issue asks for."""

from __future__ import annotations

import re

from distillguard.report import render_report


def test_report_is_self_contained_with_plots_and_tables(tiny_scan) -> None:
    result, _ = tiny_scan
    html = render_report(result)
    assert html.count("<svg") >= 2
    assert not re.search(r"(src|href)=\"https?://", html)
    assert "release m-2" in html
    for section in ("Traffic over time", "Scores", "Top template families", "Top accounts",
                    "Data quality", "rows failed validation"):
        assert section in html
    assert "hydra-0" in html
    assert "think step by step" in html.lower()
