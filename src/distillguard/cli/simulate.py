"""``distillguard simulate``: write a realistic, labelled provider world."""

from __future__ import annotations

from pathlib import Path

import typer

from distillguard.cli.main import EXIT_CONFIG, app


@app.command()
def simulate(
    out: Path = typer.Option(..., "--out", help="Directory to write the dataset(s) into."),
    scale: float = typer.Option(1.0, "--scale", help="1 = about 1M events; 16 = the disclosure's scale (~16M)."),
    seed: int = typer.Option(1, "--seed", help="Same seed, same files (byte for byte)."),
    labs: int = typer.Option(1, "--labs", help="Providers to simulate; >1 writes OUT/<lab-name>/ each."),
    scenario: Path | None = typer.Option(
        None, "--scenario", help="Scenario YAML (default: the bundled default.yaml). "
        "The bundled holdout is distillguard/sim/scenarios/holdout.yaml."
    ),
    truth: bool = typer.Option(
        False, "--truth", help="Also write per-event ground truth to <lab>/_truth/ (evaluation only)."
    ),
) -> None:
    """Generate traffic logs with real prompt text, benign personas and distillation
    campaigns (events, accounts, releases, labels per the traffic-log contract)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from distillguard.errors import ConfigError
    from distillguard.sim import simulate as run

    console = Console(stderr=True)
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("days"), TimeElapsedColumn(), console=console, transient=False,
    ) as bar:
        tasks: dict[str, int] = {}

        def progress(lab: str, done: int, total: int) -> None:
            if lab not in tasks:
                tasks[lab] = bar.add_task(lab, total=total)
            bar.update(tasks[lab], completed=done)  # type: ignore[arg-type]

        try:
            summary = run(out, scale=scale, seed=seed, labs=labs, scenario=scenario,
                          emit_truth=truth, progress=progress)
        except ConfigError as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(EXIT_CONFIG) from exc
    for lab in summary.labs:
        camp = ", ".join(f"{k}: {v}" for k, v in sorted(lab.by_campaign.items())) or "none"
        typer.echo(
            f"{lab.name}: {lab.events:,} events, {lab.accounts:,} accounts "
            f"({lab.distillation_accounts:,} distillation; {camp}) -> {lab.path}"
        )
    typer.echo(f"done in {summary.wall_s:.1f}s ({summary.events / max(summary.wall_s, 1e-9):,.0f} events/s)")
