"""govml's command line (typer + rich).

The faces are thin: parse options, call the library, print with rich. Each capability has its own
module here (``demands.py``, ``hotspots.py`` ...) holding a ``typer.Typer`` group; heavy libraries
(pandas, scikit-learn, lightgbm, mlflow, flwr) are imported inside the commands so that
``govml --help`` stays fast.

Every :class:`govml.errors.GovmlError` becomes one line on stderr and a non-zero exit; a
traceback is shown only with ``--debug`` (or ``GOVML_DEBUG=1``).
"""

from __future__ import annotations

import os
import sys

import typer
from rich.console import Console

from govml import __version__
from govml.errors import GovmlError

console = Console()
err_console = Console(stderr=True)

app = typer.Typer(
    name="govml",
    help="govml — evidence for community governance: demand mining and early warning, complaint "
    "hotspot forecasting, skill-gap diagnosis, federated learning across districts, tracked retraining.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)

_state = {"debug": False}


def _version_callback(value: bool) -> None:
    if value:
        console.print(f"govml {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Show govml's version and exit."
    ),
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks for errors."),
) -> None:
    """govml — evidence for community governance."""
    _state["debug"] = debug or os.environ.get("GOVML_DEBUG", "") not in ("", "0")


def _register() -> None:
    # Imported here (not at module top) so each group module can import `app`-level helpers.
    from govml.cli import data, demands, demo, federated, hotspots, models, retrain, skills

    data.register(app)
    demo.register(app)
    app.add_typer(demands.app, name="demands", help=demands.HELP)
    app.add_typer(hotspots.app, name="hotspots", help=hotspots.HELP)
    app.add_typer(skills.app, name="skills", help=skills.HELP)
    app.add_typer(federated.app, name="federated", help=federated.HELP)
    app.add_typer(models.app, name="models", help=models.HELP)
    retrain.register(app)


_register()

# Errors a user can cause that are not ours: still one clear line, never a traceback.
_USER_OS_ERRORS = (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError)


def _ended_by_ctrl_c(exc: BaseException) -> bool:
    """Whether ``exc`` (the SystemExit click raises) comes from a KeyboardInterrupt that nothing has reported:
    typer answers Ctrl-C with ``Exit(130) from KeyboardInterrupt``; a command that says where it stopped itself
    (``govml demo``) raises ``Exit(130) from None``, which hides the interrupt and is not said twice."""
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        if isinstance(e, KeyboardInterrupt):
            return True
        seen.add(id(e))
        e = e.__cause__ if e.__cause__ is not None else (None if e.__suppress_context__ else e.__context__)
    return False


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``govml`` script."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:]) or os.environ.get(
        "GOVML_DEBUG", ""
    ) not in ("", "0")
    try:
        app(args=argv, standalone_mode=True)
    except SystemExit as exc:
        if _ended_by_ctrl_c(exc):  # typer turns Ctrl-C into a silent exit 130: say it
            err_console.print("[bold red]interrupted[/] (Ctrl-C): the command stopped before it finished; "
                              "run it again for its outputs", highlight=False, soft_wrap=True)
        raise
    except GovmlError as exc:
        if debug:
            raise
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except _USER_OS_ERRORS as exc:
        if debug:
            raise
        name = getattr(exc, "filename", None)
        what = exc.strerror or exc.__class__.__name__
        err_console.print(f"[bold red]error:[/] {name}: {what}" if name else f"[bold red]error:[/] {exc}",
                          highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err_console.print("[bold red]interrupted[/]")
        sys.exit(130)
    except Exception as exc:  # a bug in govml: still one line, with a pointer to --debug
        if debug:
            raise
        err_console.print(
            f"[bold red]internal error:[/] {exc.__class__.__name__}: {exc} "
            "(this is a bug in govml; rerun with --debug for the traceback and report it)",
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(70)
