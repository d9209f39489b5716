"""``distillguard validate DIR``: check a dataset against the traffic-log contract."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from distillguard.cli.main import EXIT_FOUND_PROBLEM, EXIT_INPUT, EXIT_OK, app

if TYPE_CHECKING:
    from rich.console import Console

    from distillguard.ingest.report import ValidationReport


def _span(first: str | None, last: str | None) -> str:
    import datetime as dt

    if not first or not last:
        return "-"
    a, b = dt.datetime.fromisoformat(first), dt.datetime.fromisoformat(last)
    days = (b - a).total_seconds() / 86_400
    return f"{a:%Y-%m-%d %H:%M:%S} → {b:%Y-%m-%d %H:%M:%S} UTC ({days:,.1f} days)"


def _render(report: ValidationReport, console: Console) -> None:
    from rich.table import Table

    s = report.stats
    summary = Table(title="Dataset summary", show_header=False, title_justify="left")
    summary.add_column("", style="bold")
    summary.add_column("")
    for table, c in report.tables.items():
        extra = f" ({c.rows_bad:,} bad)" if c.rows_bad else ""
        summary.add_row(f"{table} rows", f"{c.rows_ok:,} valid of {c.rows_read:,} read{extra}")
    if s:
        summary.add_row("time span", _span(s.get("first_ts"), s.get("last_ts")))
        summary.add_row("accounts with events", f"{s.get('accounts_with_events', 0):,}")
        summary.add_row("distinct client IPs", f"{s.get('distinct_ips', 0):,}")
        summary.add_row("events with prompt text", f"{100 * s.get('prompt_share', 0.0):.1f}%")
        models = s.get("models", {})
        summary.add_row("models", "\n".join(f"{m}: {n:,}" for m, n in models.items()) or "-")
    console.print(summary)

    if report.bad_rows:
        bad = Table(title="Bad rows by reason", title_justify="left")
        bad.add_column("table")
        bad.add_column("reason")
        bad.add_column("rows", justify="right")
        for table, counter in report.bad_rows.items():
            for reason, n in sorted(counter.items()):
                bad.add_row(table, reason, f"{n:,}")
        console.print(bad)
        ex = Table(title="First examples", title_justify="left")
        ex.add_column("where", overflow="fold")
        ex.add_column("reason")
        ex.add_column("message", overflow="fold")
        for e in report.examples:
            ex.add_row(e.where(), e.reason, e.message)
        console.print(ex)
    for q in report.quarantine_files:
        console.print(f"quarantined rows written to [bold]{q}[/]", soft_wrap=True)
    for f in report.fatal:
        console.print(f"[bold red]fatal:[/] {f}", soft_wrap=True)
    if report.ok:
        console.print("[bold green]OK[/]" + (f" ({report.n_bad:,} bad rows skipped)"
                                              if report.n_bad else ""))
    elif not report.fatal:
        console.print(f"[bold red]FAILED[/]: {report.n_bad:,} bad rows (--strict)")


@app.command()
def validate(
    directory: Path = typer.Argument(..., help="Dataset directory (events.*, accounts.*, "
                                     "optional releases.*, labels.*)."),
    strict: bool = typer.Option(False, "--strict", help="Fail (exit 1) on any bad row."),
    quarantine: Path | None = typer.Option(
        None, "--quarantine", metavar="DIR",
        help="Write every bad row, with file, row/offset, field and reason, to "
             "DIR/<table>.quarantine.jsonl."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Check a dataset against the traffic-log contract and summarise it.

    Bad rows are counted by reason and skipped (never silently); the rest is read.

    Exit codes: 0 valid; 1 fatal problem (missing required column) or --strict with bad
    rows; 3 unreadable input (missing directory or table, corrupt or truncated file).
    """
    from rich.console import Console

    from distillguard.errors import IngestError
    from distillguard.ingest import validate_dataset
    from distillguard.ingest._errors import ContractError

    err = Console(stderr=True)
    out = Console()
    try:
        report = validate_dataset(directory, strict=strict, quarantine_dir=quarantine,
                                  progress=not as_json and err.is_terminal)
    except ContractError as exc:  # raised only outside the per-table checks
        err.print(f"[bold red]fatal:[/] {exc}", soft_wrap=True)
        raise typer.Exit(EXIT_FOUND_PROBLEM) from exc
    except IngestError as exc:
        if as_json:
            typer.echo(json.dumps({"ok": False, "error": str(exc), "unreadable": True}))
        err.print(f"[bold red]cannot read input:[/] {exc}", soft_wrap=True)
        raise typer.Exit(EXIT_INPUT) from exc
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2, default=str))
    else:
        _render(report, out)
    raise typer.Exit(EXIT_OK if report.ok else EXIT_FOUND_PROBLEM)
