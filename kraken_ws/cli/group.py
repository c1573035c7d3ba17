"""The ``kraken-ws`` click group, its one-line errors and exit codes, and shared option checks.

Exit codes: 0 ok, 1 runtime failure (`_run` maps the library's errors), 2 usage error.

The group imports a command's module only when that command runs (or ``--help`` lists it),
from the table `_COMMANDS`: the process is ready in a fraction of the time the client, the
models and rich take to import, so a command can say what it is doing first.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
from collections.abc import Awaitable, Mapping, Sequence
from typing import Any

import click

from .. import __version__

__all__ = ["main"]

# Each command's home in kraken_ws.cli, "module:function", imported when the command is used.
_COMMANDS = {
    "book": "streaming:book",
    "gateway": "gateway:gateway",
    "ohlc": "streaming:ohlc",
    "record": "record_replay:record",
    "replay": "record_replay:replay",
    "schemas": "admin:schemas",
    "serve": "admin:serve",
    "ticker": "streaming:ticker",
    "token": "admin:token",
    "trades": "streaming:trades",
}


def _one_line(message: str) -> str:
    return " ".join(message.split())


class _Group(click.Group):
    """A click group whose errors are one line on stderr (exit 2 usage, 1 runtime).

    Its commands are loaded on first use from ``lazy_commands`` (click's "lazy loading" pattern).
    """

    def __init__(self, *args: Any, lazy_commands: Mapping[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy_commands:
            module, name = self.lazy_commands[cmd_name].split(":")
            command = getattr(importlib.import_module(f".{module}", __package__), name)
            if not isinstance(command, click.Command):
                raise TypeError(f"{self.lazy_commands[cmd_name]} is not a click command")
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, False, **extra)
        except click.UsageError as exc:
            hint = ""
            if exc.ctx is not None:
                hint = f" (see '{exc.ctx.command_path} --help')"
            click.echo(f"Error: {_one_line(exc.format_message())}{hint}", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            click.echo(f"Error: {_one_line(exc.format_message())}", err=True)
            sys.exit(exc.exit_code)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except (click.Abort, KeyboardInterrupt):
            click.echo("Aborted.", err=True)
            sys.exit(130)
        except EOFError:
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List the commands; a description too long for one line wraps instead of being cut.

        Click cuts each one to the width left and ends it with "...". Commands give a
        ``short_help`` that fits 80 columns; this keeps any other (a new command's, a narrow
        terminal) whole.
        """
        rows: list[tuple[str, str]] = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=1000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(
    cls=_Group,
    lazy_commands=_COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="kraken-ws")
def main() -> None:
    """kraken-ws: typed Kraken Spot WebSocket v2 tools.

    Streaming commands run against an embedded local exchange unless given --live (Kraken's
    production endpoints) or --ws-url. Exit codes: 0 ok, 1 runtime failure, 2 usage error.

    \b
    Examples:
      kraken-ws book BTC/USD                   live ladder from the embedded exchange
      kraken-ws book BTC/USD --live --depth 25
      kraken-ws record -c book -s BTC/USD -o btc.jsonl.gz --duration 10
      kraken-ws replay btc.jsonl.gz --as-fast-as-possible
    """  # noqa: D301


def _describe(exc: BaseException) -> str:
    from ..exceptions import KrakenAPIError

    if isinstance(exc, KrakenAPIError):
        what = exc.method or "the request"
        error = exc.error
        if exc.symbol:
            what += f" {exc.symbol}"
            # Kraken often ends the text with the pair too ("Currency pair not supported
            # FOO/BAR"): name it once.
            error = error.removesuffix(f" {exc.symbol}")
        return _one_line(f"Kraken refused {what}: {error}")
    text = str(exc) or type(exc).__name__
    return _one_line(text)


def _run(coro: Awaitable[None]) -> None:
    """Run a command's coroutine; map failures to one-line errors (exit 1)."""
    from ..exceptions import KrakenWSError
    from ..recording import RecordingError

    async def wrapper() -> None:
        await coro

    try:
        asyncio.run(wrapper())
    except click.ClickException:
        raise
    except (KrakenWSError, RecordingError, OSError, TimeoutError) as exc:
        raise click.ClickException(_describe(exc)) from None


# The depth and interval checks read the models' values, and importing the models takes longer
# than the rest of the start-up (about 0.25 s): an option's default is let through without them
# (each is valid: tests/cli/test_connect.py checks), so only a value typed in pays for the check.


def _check_depth(ctx: click.Context, param: click.Parameter, value: int | None) -> int | None:
    if value is None or value == param.default:
        return value
    from ..models.common import BOOK_DEPTHS

    if value not in BOOK_DEPTHS:
        raise click.BadParameter(
            f"{value} is not a book depth; choose one of {', '.join(map(str, BOOK_DEPTHS))}",
            ctx=ctx,
            param=param,
        )
    return value


def _check_interval(ctx: click.Context, param: click.Parameter, value: int) -> int:
    if value == param.default:
        return value
    from ..models.common import OHLC_INTERVALS

    if value not in OHLC_INTERVALS:
        raise click.BadParameter(
            f"{value} is not a candle interval; choose one of "
            f"{', '.join(map(str, OHLC_INTERVALS))} (minutes)",
            ctx=ctx,
            param=param,
        )
    return value


def _check_symbols(symbols: Sequence[str], param_hint: str = "SYMBOL") -> list[str]:
    """The pairs given (commas split them too); ``param_hint`` names the argument or option."""
    out: list[str] = []
    for symbol in symbols:
        for part in symbol.split(","):
            part = part.strip()
            if not part:
                continue
            if "/" not in part:
                raise click.BadParameter(
                    f"{part!r} is not a pair; write it as BASE/QUOTE, e.g. BTC/USD",
                    param_hint=param_hint,
                )
            out.append(part)
    if not out:
        raise click.BadParameter("at least one pair is needed, e.g. BTC/USD", param_hint=param_hint)
    return out
