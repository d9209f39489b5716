"""``distillguard scan`` (batch detection) and ``distillguard evaluate`` (against labels)."""

from __future__ import annotations

from pathlib import Path

import typer

from distillguard.cli.main import EXIT_CONFIG, EXIT_FOUND_PROBLEM, EXIT_INPUT, EXIT_OK, app


@app.command()
def scan(
    input_dir: Path = typer.Option(..., "--input", "-i", help="Dataset directory "
                                   "(events.*, accounts.*, optional releases.*)."),
    output: Path = typer.Option(..., "--output", "-o", help="Directory for accounts.csv, "
                                "campaigns.json and report.html."),
    config: Path | None = typer.Option(None, "--config", help="Detection config YAML "
                                       "(default: the packaged signals/default.yaml)."),
    strict: bool = typer.Option(False, "--strict", help="Stop (exit 1) at the first bad row."),
    quarantine: Path | None = typer.Option(None, "--quarantine", metavar="DIR",
                                           help="Write bad rows to DIR/<table>.quarantine.jsonl."),
    watchlist: Path | None = typer.Option(None, "--watchlist", metavar="FILE",
                                          help="YAML/JSON watch-list of known actors' "
                                          "indicators; matching campaigns are attributed."),
    intel: Path | None = typer.Option(None, "--intel", metavar="STORE",
                                      help="Partner indicators pulled with `distillguard share "
                                      "pull` (SQLite store); matches raise scores with reasons."),
    keyring: Path | None = typer.Option(None, "--keyring", envvar="DISTILLGUARD_KEYRING",
                                        help="Consortium keyring for --intel (keyed hashes)."),
    identity: str = typer.Option("", "--identity", envvar="DISTILLGUARD_IDENTITY",
                                 help="This lab's STIX identity (its own indicators ignored)."),
    engine: str = typer.Option("local", "--engine", help="Where stages 1-2 run: `local` "
                               "(this process) or `spark` (PySpark; see docs/spark.md)."),
    spark_master: str | None = typer.Option(None, "--spark-master", metavar="URL",
                                            help="Spark master for --engine spark, e.g. "
                                            "local[2] or spark://host:7077 (default: what "
                                            "spark-submit set, else local[*])."),
) -> None:
    """Score every account for adversarial distillation and explain the verdicts.

    Bad rows are counted, reported and skipped (the rest is scored) unless --strict.
    Never reads labels.*. Exit codes: 0 ok; 1 --strict saw a bad row or a required column
    is missing; 3 unreadable input; 4 invalid config (or watch-list).
    """
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from distillguard.errors import ConfigError, IngestError
    from distillguard.ingest import StrictModeError, open_dataset, progress_total
    from distillguard.ingest._errors import ContractError
    from distillguard.pipeline import PartnerIntel, run_scan, score_summary, write_outputs
    from distillguard.share.errors import ShareError
    from distillguard.signals.registry import load_config

    err = Console(stderr=True)
    if engine not in ("local", "spark"):
        err.print(f"[bold red]--engine:[/] {engine!r} is not one of: local, spark")
        raise typer.Exit(EXIT_CONFIG)
    if intel is not None and not intel.is_file():
        err.print(f"[bold red]partner intel:[/] no indicator store at {intel} "
                  "(fill one with `distillguard share pull --store ...`)")
        raise typer.Exit(EXIT_INPUT)
    try:
        cfg = load_config(config)
    except ConfigError as exc:
        err.print(f"[bold red]config error:[/] {exc}")
        raise typer.Exit(EXIT_CONFIG) from exc
    try:
        ds = open_dataset(input_dir)
        f = ds.file("events")
        total = progress_total(f) if f is not None else 0
        unit = "rows" if f is not None and f.format == "parquet" else "rows (of file)"
        if engine == "spark":
            from distillguard.spark import run_scan_spark

            result = run_scan_spark(input_dir, master=spark_master, config=cfg, strict=strict,
                                    quarantine=quarantine, watchlist=watchlist,
                                    intel=PartnerIntel(intel, keyring, identity or None)
                                    if intel is not None else None)
        else:
            with Progress(TextColumn("[bold]scan[/]"), BarColumn(),
                          TextColumn("{task.completed:,} " + unit), TimeElapsedColumn(),
                          console=err, transient=True) as bar:
                task = bar.add_task("events", total=total if unit == "rows" else None)
                result = run_scan(input_dir, config=cfg, strict=strict, quarantine=quarantine,
                                  on_rows=lambda n: bar.advance(task, n), watchlist=watchlist,
                                  intel=PartnerIntel(intel, keyring, identity or None)
                                  if intel is not None else None)
        paths = write_outputs(result, output)
    except StrictModeError as exc:
        err.print(f"[bold red]bad row (--strict):[/] {exc}")
        raise typer.Exit(EXIT_FOUND_PROBLEM) from exc
    except ContractError as exc:
        err.print(f"[bold red]fatal:[/] {exc}")
        raise typer.Exit(EXIT_FOUND_PROBLEM) from exc
    except IngestError as exc:
        err.print(f"[bold red]cannot read input:[/] {exc}")
        raise typer.Exit(EXIT_INPUT) from exc
    except ConfigError as exc:
        err.print(f"[bold red]config error:[/] {exc}")
        raise typer.Exit(EXIT_CONFIG) from exc
    except ShareError as exc:  # unreadable keyring or indicator store
        err.print(f"[bold red]partner intel:[/] {exc}")
        raise typer.Exit(EXIT_CONFIG) from exc
    s = score_summary(result)
    out = Console()
    out.print(f"scored [bold]{s['events']:,}[/] events from [bold]{s['accounts']:,}[/] accounts "
              f"in {result.timings['total']:.1f} s: [bold red]{s['flagged']:,} flagged[/] "
              f"({s['flagged_part1']:,} on their own traffic, "
              f"{s['flagged'] - s['flagged_part1']:,} more by linking), "
              f"{s['campaigns']} campaign(s)")
    if s["quarantined_rows"]:
        reasons = ", ".join(f"{k}: {v:,}" for k, v in result.report.bad_by_reason().items())
        out.print(f"[yellow]{s['quarantined_rows']:,} bad rows quarantined and not scored[/] "
                  f"({reasons})")
    for name, p in paths.items():
        out.print(f"  {name}: {p}")
    raise typer.Exit(EXIT_OK)


@app.command()
def evaluate(
    world: Path = typer.Option(..., "--world", help="Dataset directory with labels.*"),
    scan_dir: Path = typer.Option(..., "--scan", help="Output directory of `scan`."),
    baselines: bool = typer.Option(True, "--baselines/--no-baselines",
                                   help="Also score the rate-limit and PRADA/MMD baselines."),
    as_json: bool = typer.Option(False, "--json", help="Print metrics as JSON."),
) -> None:
    """Measure a scan against the world's labels: ROC-AUC, TPR at FPR 0.1%, per-persona
    FPR, per-campaign recall (and the same for the two baselines)."""
    import json

    from rich.console import Console

    from distillguard.errors import IngestError
    from distillguard.scoring.evaluate import evaluate_scan, render_metrics

    try:
        metrics = evaluate_scan(world, scan_dir, baselines=baselines)
    except IngestError as exc:
        Console(stderr=True).print(f"[bold red]cannot read input:[/] {exc}")
        raise typer.Exit(EXIT_INPUT) from exc
    if as_json:
        typer.echo(json.dumps(metrics, indent=2, default=str))
    else:
        render_metrics(metrics, Console())
    raise typer.Exit(EXIT_OK)
