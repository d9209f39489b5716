"""Load what sharing needs from a dataset directory and a scan output directory.

The scan writes only accounts.csv / campaigns.json, so publish and match recompute the
stage-1 frame (the same pure :func:`distillguard.enrich.enrich_frame` the scan runs) and
the template families; prompt text is read only to rebuild the skeletons of the families
that are about to be sketched, and never leaves this module except as skeleton text.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import polars as pl

from distillguard.share.errors import ShareError


@dataclass(frozen=True)
class LabData:
    accounts: pl.DataFrame
    events: pl.DataFrame  # stage-1 narrow frame with template_id
    prompts: pl.DataFrame  # account_id, prompt (only when asked for)


def load_lab(dataset_dir: str | Path, *, with_prompts: bool = False) -> LabData:
    from distillguard.aggregate.templates import resolve_templates
    from distillguard.enrich import INPUT_COLUMNS, enrich_frame
    from distillguard.ingest import iter_event_batches, open_dataset, read_table

    ds = open_dataset(dataset_dir)
    accounts = pl.from_arrow(read_table(ds, "accounts"))
    assert isinstance(accounts, pl.DataFrame)
    narrow, prompts = [], []
    for batch in iter_event_batches(ds, columns=list(INPUT_COLUMNS), batch_rows=500_000):
        df = pl.from_arrow(batch)
        assert isinstance(df, pl.DataFrame)
        narrow.append(enrich_frame(df)[0])
        if with_prompts and "prompt" in df.columns:
            prompts.append(df.select("account_id", "prompt").drop_nulls("prompt"))
    if not narrow:
        raise ShareError(f"{dataset_dir}: no events")
    ev, _ = resolve_templates(pl.concat(narrow).lazy())
    pr = pl.concat(prompts) if prompts else pl.DataFrame(
        schema={"account_id": pl.String, "prompt": pl.String})
    return LabData(accounts, ev.collect(), pr)


def load_campaigns(scan_dir: str | Path) -> list[dict[str, Any]]:
    p = Path(scan_dir) / "campaigns.json"
    try:
        data = orjson.loads(p.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise ShareError(f"cannot read {p}: {exc}") from exc
    if not isinstance(data, list):
        raise ShareError(f"{p}: expected a JSON list of campaigns")
    return data
