"""The spark engine gives the local engine's verdicts, byte for byte, on the same world.

One test function on purpose: under ``pytest -n 2`` separate tests may land on both xdist
workers, and each would start its own Spark JVM (the session fixture is per worker).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from distillguard.pipeline import run_scan, write_outputs


def _scan_spark(spark: Any, world: Path, out: Path) -> Any:
    from distillguard.spark import run_scan_spark

    result = run_scan_spark(world, spark=spark, partitions=2)
    write_outputs(result, out)
    return result


def test_spark_engine_matches_local(spark: Any, tiny_world: Path, tiny_scan: Any,
                                    tmp_path: Path) -> None:
    _parquet_world_equals_local(spark, tiny_world, tiny_scan, tmp_path / "parquet")
    _jsonl_with_bad_rows_counts_and_scores_like_local(spark, tiny_world, tmp_path / "jsonl")
    _strict_stops_at_bad_rows(spark, tiny_world, tmp_path / "strict")
    _part_file_directory_equals_local(spark, tiny_world, tiny_scan, tmp_path / "parts")
    _partner_intel_equals_local(spark, tiny_world, tiny_scan, tmp_path / "intel")


def _partner_intel_equals_local(spark: Any, tiny_world: Path, tiny_scan: Any,
                                tmp_path: Path) -> None:
    """``--intel`` on Spark: the traffic stays on the executors (totals, distinct values
    and matched-value counts come back) and the verdicts are the local engine's."""
    from distillguard.pipeline import PartnerIntel
    from distillguard.share.keys import new_keyring, save_keyring
    from distillguard.share.policy import Policy
    from distillguard.share.publish import build_publication
    from distillguard.share.store import IndicatorStore
    from distillguard.spark import run_scan_spark

    local, _ = tiny_scan
    tmp_path.mkdir(parents=True)
    ring = new_keyring("forum", ["2026-01"], master=b"spark intel test key 0123456789ab")
    save_keyring(ring, tmp_path / "keyring.yaml")
    acc = pl.read_parquet(tiny_world / "accounts.parquet")
    partner = "identity--11111111-1111-4111-8111-111111111111"
    pub = build_publication(local.campaigns, acc, local.events, keyring=ring,
                            policy=Policy(collection="col-1", min_confidence=0),
                            identity=partner)
    st = IndicatorStore(tmp_path / "store.db")
    assert st.add(pub.objects, "col-1") > 0
    st.close()
    intel = PartnerIntel(tmp_path / "store.db", tmp_path / "keyring.yaml",
                         "identity--33333333-3333-4333-8333-333333333333")
    write_outputs(run_scan(tiny_world, intel=intel), tmp_path / "local")
    write_outputs(run_scan_spark(tiny_world, spark=spark, partitions=2, intel=intel),
                  tmp_path / "spark")
    shared = pl.read_csv(tmp_path / "local" / "accounts.csv")
    assert (shared["share_boost"] > 0).sum() > 0  # the partner's indicators matched
    assert (tmp_path / "spark" / "accounts.csv").read_bytes() == \
        (tmp_path / "local" / "accounts.csv").read_bytes()


def _part_file_directory_equals_local(spark: Any, tiny_world: Path, tiny_scan: Any,
                                      tmp_path: Path) -> None:
    """``events.parquet`` as Spark writes it (a directory of parts beside ``_SUCCESS``)."""
    import shutil

    world = tmp_path / "world"
    shutil.copytree(tiny_world, world)
    ev = pl.read_parquet(world / "events.parquet")
    (world / "events.parquet").unlink()
    (world / "events.parquet").mkdir()
    step = -(-ev.height // 3)
    for k in range(3):
        ev.slice(k * step, step).write_parquet(world / "events.parquet" / f"part-{k:05d}.parquet")
    (world / "events.parquet" / "_SUCCESS").write_bytes(b"")
    _scan_spark(spark, world, tmp_path / "out")
    _, local_out = tiny_scan
    assert (tmp_path / "out" / "accounts.csv").read_bytes() == \
        (local_out / "accounts.csv").read_bytes()


def _parquet_world_equals_local(spark: Any, tiny_world: Path, tiny_scan: Any,
                                tmp_path: Path) -> None:
    local, local_out = tiny_scan
    result = _scan_spark(spark, tiny_world, tmp_path)
    assert result.n_events == local.n_events
    assert result.accounts.get_column("flagged").sum() > 0  # the world has a campaign
    # scores, flags, clusters, reasons and every feature column, as written
    assert (tmp_path / "accounts.csv").read_bytes() == (local_out / "accounts.csv").read_bytes()
    assert json.loads((tmp_path / "campaigns.json").read_text()) == \
        json.loads((local_out / "campaigns.json").read_text())
    # only the flagged accounts' events came back to the driver
    flagged = set(result.accounts.filter("flagged").get_column("account_id").to_list())
    assert set(result.events.get_column("account_id").unique().to_list()) <= flagged


def _jsonl_with_bad_rows_counts_and_scores_like_local(spark: Any, tiny_world: Path,
                                                      tmp_path: Path) -> None:
    """JSONL input (numbers as strings, RFC 3339 times) with one row per bad-row reason:
    both engines leave out and count the same rows and score the rest the same."""
    world = tmp_path / "world"
    world.mkdir(parents=True)
    for name in ("accounts", "releases"):
        pl.read_parquet(tiny_world / f"{name}.parquet").write_parquet(world / f"{name}.parquet")
    ev = pl.read_parquet(tiny_world / "events.parquet")
    first = ev.row(0, named=True)
    lines = [json.dumps(r, default=str) for r in ev.with_columns(
        pl.col("ts").dt.to_string("%Y-%m-%dT%H:%M:%S%.fZ"),
        pl.col("input_tokens").cast(pl.String),  # a numeric string is a valid number
    ).iter_rows(named=True)]
    bad = {**first, "ts": "2026-01-05T10:00:00Z"}
    lines += [
        "{not json",
        json.dumps({**bad, "event_id": "bad-type", "output_tokens": "many"}),
        json.dumps({**bad, "event_id": "bad-ts", "ts": "yesterday"}),
        json.dumps({**bad, "event_id": "no-account", "account_id": None}),
        json.dumps({**bad, "event_id": "stranger", "account_id": "acct_nobody"}),
        json.dumps({**bad, "event_id": first["event_id"]}),  # duplicate: first one kept
    ]
    (world / "events.jsonl").write_text("\n".join(lines) + "\n")

    local = run_scan(world, quarantine=tmp_path / "q-local")
    write_outputs(local, tmp_path / "local")
    from distillguard.spark import run_scan_spark

    result = run_scan_spark(world, spark=spark, partitions=2, quarantine=tmp_path / "q-spark")
    write_outputs(result, tmp_path / "spark")
    assert local.report.n_bad == 6
    assert result.report.bad_by_reason() == local.report.bad_by_reason()
    # the same rejected rows, each with its reason, field and original record
    keys = ["reason", "field", "event_id"]
    local_q = pl.read_ndjson(tmp_path / "q-local" / "events.quarantine.jsonl")
    spark_q = pl.read_ndjson(sorted((tmp_path / "q-spark" / "events.quarantine.jsonl")
                                    .glob("part-*.json")))
    assert result.report.quarantine_files == [str(tmp_path / "q-spark" /
                                                  "events.quarantine.jsonl")]
    for q in (local_q, spark_q):
        assert set(q.columns) >= {"table", "file", "row", "offset", "field", "reason",
                                  "message", "record"}

    def _event_id(record: str) -> str | None:
        try:
            return str(json.loads(record).get("event_id"))
        except ValueError:  # the malformed line itself
            return None

    def _ids(q: pl.DataFrame) -> pl.DataFrame:
        return q.select("reason", "field", pl.col("record").map_elements(
            _event_id, return_dtype=pl.String).alias("event_id")).sort(keys, nulls_last=True)

    assert _ids(spark_q).to_dicts() == _ids(local_q).to_dicts()
    assert "{not json" in spark_q.get_column("record").to_list()
    assert result.n_events == local.n_events == ev.height
    assert (tmp_path / "spark" / "accounts.csv").read_bytes() == \
        (tmp_path / "local" / "accounts.csv").read_bytes()


def _strict_stops_at_bad_rows(spark: Any, tiny_world: Path, tmp_path: Path) -> None:
    from distillguard.ingest import StrictModeError
    from distillguard.spark import run_scan_spark

    world = tmp_path / "world"
    world.mkdir(parents=True)
    pl.read_parquet(tiny_world / "accounts.parquet").write_parquet(world / "accounts.parquet")
    ev = pl.read_parquet(tiny_world / "events.parquet").head(50)
    pl.concat([ev, ev.head(1)]).write_parquet(world / "events.parquet")  # a duplicate id
    with pytest.raises(StrictModeError, match="duplicate_key"):
        run_scan_spark(world, spark=spark, partitions=2, strict=True)
