"""The ``kraken-ws`` click group, its one-line errors and exit codes, and shared option checks.

Exit codes: 0 ok, 1 runtime failure (`_run` maps the library's errors), 2 usage error.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Sequence
from typing import Any

import click

from .. import __version__
from ..models.common import BOOK_DEPTHS, OHLC_INTERVALS

__all__ = ["main"]


def _one_line(message: str) -> str:
    return " ".join(message.split())


class _Group(click.Group):
    """A click group whose errors are one line on stderr (exit 2 usage, 1 runtime)."""

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


def _check_depth(ctx: click.Context, param: click.Parameter, value: int | None) -> int | None:
    if value is not None and value not in BOOK_DEPTHS:
        raise click.BadParameter(
            f"{value} is not a book depth; choose one of {', '.join(map(str, BOOK_DEPTHS))}",
            ctx=ctx,
            param=param,
        )
    return value


def _check_interval(ctx: click.Context, param: click.Parameter, value: int) -> int:
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
