"""Publish -> pull -> match -> sight through a real in-process hub, capturing every byte
that crosses the wire and proving that no raw customer value or prompt text left a lab."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from distillguard.share.inputs import LabData, load_lab
from distillguard.share.keys import new_keyring
from distillguard.share.leakguard import LeakGuard
from distillguard.share.localhub import LocalHub, local_hub
from distillguard.share.match import match_indicators, matched_indicators
from distillguard.share.policy import Policy
from distillguard.share.publish import build_publication, send_publication
from distillguard.share.pull import follow, pull
from distillguard.share.sightings import build_sightings, false_positive, send_sightings
from distillguard.share.sketch import family_skeletons
from distillguard.share.store import IndicatorStore

LABS = ("lab-aurora", "lab-corvid", "lab-lumen")


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalHub]:
    db = tmp_path_factory.mktemp("hub") / "hub.db"
    with local_hub(db, LABS, description="forum", capture=True) as hub:
        yield hub


@pytest.fixture(scope="module")
def labs(sim_world3: Path) -> dict[str, LabData]:
    return {lab: load_lab(sim_world3 / lab, with_prompts=True) for lab in LABS}


def _truth_campaigns(world: Path, lab: str, data: LabData) -> list[dict[str, Any]]:
    """Stand-in for the lab's own scan: its known campaigns (test only)."""
    labels = pl.read_parquet(world / lab / "labels.parquet").filter(
        pl.col("label") == "distillation")
    out = []
    for (name,), grp in labels.group_by(["campaign"]):
        ev = data.events.filter(pl.col("account_id").is_in(grp["account_id"].implode()))
        out.append({"campaign_id": f"C-{name}", "accounts": grp["account_id"].to_list(),
                    "first_seen": ev["ts"].min().isoformat(),  # type: ignore[union-attr]
                    "last_seen": ev["ts"].max().isoformat(),  # type: ignore[union-attr]
                    "n_events": ev.height, "score": 0.95, "summary": "", "top_model": None})
    return out


RING = new_keyring("forum-test", ["2026-01"], master=b"w" * 32)
POLICY_KW = {"min_confidence": 50, "min_cluster_size": 2}


def test_publish_pull_match_sight_and_nothing_raw_on_the_wire(
        net: LocalHub, labs: dict[str, LabData], sim_world3: Path, tmp_path: Path) -> None:
    policy = Policy(collection=net.collection, **POLICY_KW)  # type: ignore[arg-type]
    guards = {lab: LeakGuard.from_frames(d.accounts, d.events, policy,
                                         prompts=d.prompts.get_column("prompt"))
              for lab, d in labs.items()}
    # 1. aurora publishes its campaigns
    a = labs["lab-aurora"]
    camps = _truth_campaigns(sim_world3, "lab-aurora", a)
    members = pl.Series([x for c in camps for x in c["accounts"]])
    sk = family_skeletons(a.prompts.filter(pl.col("account_id").is_in(members.implode())),
                          a.events["template_id"].drop_nulls())
    pub = build_publication(camps, a.accounts, a.events, policy=policy, keyring=RING,
                            identity=net.identities["lab-aurora"], skeletons=sk)
    assert pub.outbound
    statuses = send_publication(pub, net.links["lab-aurora"], guards["lab-aurora"])
    assert sum(s["success_count"] for s in statuses) == len(pub.objects)

    # 2. corvid pulls (twice: the checkpoint makes the second pull empty) and matches
    store = IndicatorStore(tmp_path / "corvid.db")
    first = pull(net.links["lab-corvid"], [net.collection], store, page_size=20)
    assert first[0].stored >= len(pub.objects)
    again = pull(net.links["lab-corvid"], [net.collection], store)
    assert again[0].received == 0
    c = labs["lab-corvid"]
    boosts = match_indicators(c.events, c.accounts, store, keyring=RING,
                              identity=net.identities["lab-corvid"])
    labels = pl.read_parquet(sim_world3 / "lab-corvid" / "labels.parquet")
    j = boosts.join(labels, on="account_id")
    attack = j.filter(pl.col("label") == "distillation")["share_boost"]
    benign = j.filter(pl.col("label") == "benign")["share_boost"]
    assert attack.mean() > 2 * benign.mean()  # type: ignore[operator]
    assert (attack > 0).mean() > 0.5  # type: ignore[operator]

    # 3. corvid reports its sightings; lumen disputes one indicator as a false positive
    hits = matched_indicators(c.events, c.accounts, store, keyring=RING,
                              identity=net.identities["lab-corvid"])
    sights = build_sightings(hits, identity=net.identities["lab-corvid"])
    send_sightings(net.links["lab-corvid"], sights, store, guards["lab-corvid"])
    target = hits["indicator_id"][0]
    send_sightings(net.links["lab-lumen"], [false_positive(target, identity=net.identities[
        "lab-lumen"])], store, guards["lab-lumen"])
    with net.links["lab-aurora"].client() as http:
        summary = http.get(f"/api/collections/{net.collection}/sightings/{target}/").json()
    assert summary["corroborating_members"] == 1 and summary["false_positive_members"] == 1

    # 4. lumen follows the push channel (replayed from the start) into its own store
    lstore = IndicatorStore(tmp_path / "lumen.db")
    lstore.set_checkpoint(net.collection, last_event_id=0)
    assert follow(net.links["lab-lumen"], net.collection, lstore, max_objects=5) == 5
    assert lstore.checkpoint(net.collection)[1] is not None

    # 5. the wire: every request body and query string that reached the hub is clean
    assert net.capture is not None
    posts = [r for r in net.capture.requests if r[0] == "POST"]
    assert len(posts) >= 3
    assert sum(len(r[3]) for r in posts) > 10_000
    for method, path, query, body in net.capture.requests:
        for lab, guard in guards.items():
            assert guard.scan(body) == [], (lab, method, path)
            assert guard.scan(query.decode() + " " + path) == [], (lab, path)
