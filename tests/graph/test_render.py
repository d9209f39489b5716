from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import polars as pl

from distillguard.graph import summarize_campaigns
from distillguard.graph.render import campaign_section_html, network_svg


def test_campaign_section_is_wellformed_inline_svg(linked, world) -> None:  # type: ignore[no-untyped-def]
    rel = pl.DataFrame({"model": ["m-2"], "released_at": [dt.datetime(2026, 3, 5, tzinfo=dt.UTC)]})
    camp = summarize_campaigns(linked, world.events, world.accounts, rel)[0]
    html = campaign_section_html(linked, camp, world.events, rel)
    root = ET.fromstring(html)  # well-formed XML: no stray markup in values
    svgs = root.findall(".//{http://www.w3.org/2000/svg}svg")
    assert len(svgs) == 2
    assert "m-2" in html  # release marker on the timeline
    assert html.count("<circle") >= 10


def test_network_svg_marks_flagged_and_unflagged(linked) -> None:  # type: ignore[no-untyped-def]
    svg = network_svg(linked, linked.clusters[0].cluster_id)
    assert "#d62728" in svg and "#888888" in svg  # part-1 flagged and not flagged (resold)
