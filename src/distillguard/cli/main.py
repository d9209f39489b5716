"""The ``distillguard`` command.

Exit codes scripts can rely on:
    0  success
    1  the command ran but found a fatal problem (e.g. ``validate`` found fatal errors,
       ``--strict`` saw a bad row)
    2  usage error (bad option, missing argument) -- Typer/Click's convention
    3  input could not be read at all (missing directory, unreadable/corrupt file)
    4  configuration error (detection/sharing/scenario file invalid)

Heavy libraries are imported inside commands so that ``--help`` stays instant.
"""

from __future__ import annotations

import typer

from distillguard import __version__

app = typer.Typer(
    name="distillguard",
    help=(
        "Detect adversarial distillation in model-API traffic logs and share what you "
        "catch with peer providers (STIX 2.1 over TAXII 2.1).\n\n"
        "Start with `distillguard demo`, or `distillguard validate DIR` on your own logs "
        "(layout: shared/contract/traffic-logs.md)."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXIT_OK = 0
EXIT_FOUND_PROBLEM = 1
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_CONFIG = 4


def _version(value: bool) -> None:
    if value:
        typer.echo(f"distillguard {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """distillguard command line."""


def _register() -> None:
    # Each command group lives in its own module and registers itself on ``app``.
    from importlib import import_module

    for name in ("validate", "simulate", "scan", "hub", "demo", "share"):
        try:
            import_module(f"distillguard.cli.{name}")
        except ModuleNotFoundError as exc:  # a group not built yet
            if exc.name != f"distillguard.cli.{name}":
                raise


_register()

if __name__ == "__main__":  # pragma: no cover
    app()
