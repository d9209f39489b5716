from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from distillguard.share.errors import ShareError
from distillguard.share.keys import (
    KeyRing,
    KeyringError,
    derive_epoch_keys,
    keyed_hashes_of,
    load_keyring,
    new_keyring,
    save_keyring,
)
from distillguard.share.policy import Policy, load_policy, policy_from_dict
from distillguard.share.sketch import jaccard, keyed_minhash, sketch_matches


def test_keyed_hashes_are_per_epoch_and_normalised() -> None:
    ring = new_keyring("k", ["2026-01", "2026-02"], master=b"s" * 32)
    vals = pl.Series(["Shady.IO ", "shady.io", None, "other.org"])
    a = keyed_hashes_of(vals, ring.key("2026-01"), "email-domain")
    b = keyed_hashes_of(vals, ring.key("2026-02"), "email-domain")
    assert a.height == 2  # normalised duplicates and nulls collapse
    assert set(a["hash"]).isdisjoint(set(b["hash"]))
    assert all(len(h) == 64 for h in a["hash"])
    # the hash domain separates signal types: the same string hashes differently as a card
    c = keyed_hashes_of(vals, ring.key("2026-01"), "payment-fingerprint")
    assert set(a["hash"]).isdisjoint(set(c["hash"]))


def test_an_epoch_key_does_not_reveal_other_epochs() -> None:
    keys = derive_epoch_keys(b"master" * 6, ["2026-01", "2026-02"])
    leaked = keys["2026-01"]
    assert leaked != keys["2026-02"]
    ring = KeyRing("k", {"2026-01": leaked})
    with pytest.raises(KeyringError):
        ring.key("2026-02")


def test_keyring_roundtrip_and_validation(tmp_path: Path) -> None:
    ring = new_keyring("forum", ["2026-01", "2026-03"])
    save_keyring(ring, tmp_path / "k.yaml")
    again = load_keyring(tmp_path / "k.yaml")
    assert again == ring and again.active == "2026-03"
    assert (tmp_path / "k.yaml").stat().st_mode & 0o077 == 0
    with pytest.raises(KeyringError):
        KeyRing("x", {})
    (tmp_path / "bad.yaml").write_text("key_id: x\nepochs: {e: nothex}\n")
    with pytest.raises(KeyringError):
        load_keyring(tmp_path / "bad.yaml")


def test_sketch_similar_templates_match_and_keys_separate() -> None:
    key, other = b"k" * 32, b"o" * 32
    texts = ["please solve the following problem step by step and show your work",
             "please solve the following problem step-by-step, and show your work!",
             "translate this paragraph into french keeping the formal register"]
    s = keyed_minhash(texts, key)
    assert s.shape == (3, 64)
    assert jaccard(s[0], s[1]) > 0.5
    assert jaccard(s[0], s[2]) < 0.2
    assert jaccard(s[0], keyed_minhash(texts[:1], other)[0]) < 0.2  # other key: unrelated
    pairs = sketch_matches(pl.Series(["a", "b", "c"]), s, pl.Series(["p"]), s[1:2], 0.5)
    assert set(pairs["own_id"]) == {"a", "b"}


def test_sketch_matches_empty_inputs() -> None:
    empty = np.zeros((0, 64), dtype=np.uint64)
    out = sketch_matches(pl.Series([], dtype=pl.String), empty, pl.Series(["p"]),
                         keyed_minhash(["abc def"], b"k" * 32))
    assert out.height == 0


def test_policy_rejects_typos_and_bad_values(tmp_path: Path) -> None:
    assert Policy().tlp == "amber"
    with pytest.raises(ShareError, match="unknown keys"):
        policy_from_dict({"min_confidense": 10})
    with pytest.raises(ShareError, match="tlp"):
        policy_from_dict({"tlp": "purple"})
    with pytest.raises(ShareError, match="signal types"):
        policy_from_dict({"signal_types": ["raw-prompts"]})
    with pytest.raises(ShareError, match="cidr"):
        policy_from_dict({"raw_infrastructure": {"cidrs": ["300.1.1.0/24"]}})
    p = tmp_path / "p.yaml"
    p.write_text("collection: c1\ntlp: green\nraw_infrastructure: {asns: [14061]}\n")
    pol = load_policy(p)
    assert pol.collection_for("prompt-template") == "c1" and 14061 in pol.raw_asns
