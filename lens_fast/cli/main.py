"""The `lens-fast` command: a click group with lazily imported subcommands.

Exit codes: 0 ok; 1 user error (one line on stderr, no traceback unless --debug);
2 usage error (click's message). Data goes to stdout, everything else to stderr.
"""

from __future__ import annotations

import importlib
import sys
import traceback

import click

from lens_fast.errors import LensError

# name -> "module:attribute"; modules are imported only when the command runs.
COMMANDS: dict[str, str] = {
    "compare": "lens_fast.cli.search_tools:compare",
    "evaluate": "lens_fast.cli.evaluate:evaluate",
    "profile": "lens_fast.cli.profile:profile",
    "report": "lens_fast.cli.search_tools:report",
    "search": "lens_fast.cli.search:search",
    "sweep": "lens_fast.cli.evaluate:sweep",
    "thresholds": "lens_fast.cli.runtime:thresholds",
    "regions": "lens_fast.cli.runtime:regions",
    "simulate": "lens_fast.cli.runtime:simulate",
    "analyze": "lens_fast.cli.runtime:analyze",
    "train": "lens_fast.cli.train:train",
    "traditional": "lens_fast.cli.search:traditional",
}


def _version_text() -> str:
    import numba
    import numpy as np

    from lens_fast import __version__
    from lens_fast.kernels.space import allowed_table, row_errors

    row_errors(np.zeros((2, 22), dtype=np.int32), allowed_table("native"), True)
    layer: str
    try:
        layer = numba.threading_layer()
    except ValueError:
        layer = "unknown"
    parts = [
        f"lens-fast {__version__}",
        f"numba {numba.__version__} (threading layer: {layer}, {numba.get_num_threads()} threads)",
    ]
    try:
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
        parts.append(f"torch {torch.__version__} (device: {device})")
    except ImportError:
        parts.append("torch not installed")
    return "\n".join(parts)


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(_version_text())
        ctx.exit(0)


class LensGroup(click.Group):
    """Lazy subcommands, and errors turned into one-line messages with exit code 1."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        argv = list(sys.argv[1:] if args is None else args)
        debug = "--debug" in argv
        try:
            rv = super().main(
                argv, prog_name or "lens-fast", complete_var, standalone_mode=False, **extra
            )
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("aborted", err=True)
            sys.exit(1)
        except LensError as exc:
            if debug:
                traceback.print_exc()
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except Exception as exc:
            if debug:
                traceback.print_exc()
            text = str(exc).splitlines()[0] if str(exc) else ""
            click.echo(
                f"error: {type(exc).__name__}: {text} (rerun with --debug for the traceback)",
                err=True,
            )
            sys.exit(1)
        if not standalone_mode:
            return rv
        sys.exit(rv if isinstance(rv, int) else 0)


@click.group(cls=LensGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show versions (with numba's threading layer and torch's device) and exit.",
)
@click.option("--debug", is_flag=True, help="Show tracebacks of errors.")
def cli(debug: bool) -> None:
    """lens-fast: wireless-aware NAS for DNNs split between an edge device and the cloud."""


def main() -> None:
    cli.main()
