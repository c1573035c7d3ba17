"""The ```python blocks of README.md and docs/*.md compile, run and type-check as written.

Every block is compiled. A block preceded by a marker line selects how it is checked:

- ``<!-- snippet: fragment -->``: part of a larger program (``async for event in client:``,
  ``await`` outside a function, names defined elsewhere, ``...``). It is only compiled, inside an
  ``async def`` if it needs one.
- ``<!-- snippet: pytest -->``: a test module; it is run with pytest.
- ``<!-- snippet: raises NAME -->``: a complete program whose last statement is meant to raise
  ``NAME`` (the comment after it shows the error); it must raise exactly that.

Any other block is a complete program: it is run in a subprocess (all of them concurrently,
each with a timeout) and type-checked with one ``mypy --strict`` run over all of them, with the
project's mypy configuration, as ``make lint`` checks ``examples/``.

Nothing may reach the internet. A block written for Kraken's production endpoints runs as
written through a prelude that only substitutes URLs: the websockets connector maps Kraken's
three WebSocket URLs, and the token provider Kraken's REST URL, to a
:class:`~kraken_ws.testing.ThreadedExchange` started on first use; any other host is refused.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]  # not docs/reference/
RUN_TIMEOUT = 30.0

FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)```python[ \t]*$")
FENCE_CLOSE = re.compile(r"^[ \t]*```[ \t]*$")
MARKER = re.compile(r"^\s*<!--\s*snippet:\s*(?P<what>.*?)\s*-->\s*$")


@dataclass(frozen=True)
class Snippet:
    """One ```python block."""

    doc: Path
    line: int  # of the opening fence, 1-based
    code: str
    kind: str  # "run", "fragment" or "pytest"
    raises: str | None = None

    @property
    def id(self) -> str:
        return f"{self.doc.relative_to(ROOT)}:{self.line}"

    @property
    def module(self) -> str:
        """A module name for the temp file (mypy needs distinct, valid names)."""
        stem = re.sub(r"\W", "_", self.doc.relative_to(ROOT).with_suffix("").as_posix())
        prefix = "test_" if self.kind == "pytest" else "snippet_"
        return f"{prefix}{stem.lower()}_{self.line}"


def parse_marker(what: str) -> tuple[str, str | None]:
    if what in ("fragment", "pytest"):
        return what, None
    if what.startswith("raises "):
        return "run", what.removeprefix("raises ").strip()
    raise ValueError(f"unknown snippet marker {what!r}")


def extract(doc: Path) -> list[Snippet]:
    lines = doc.read_text(encoding="utf-8").splitlines()
    found: list[Snippet] = []
    i = 0
    while i < len(lines):
        opening = FENCE_OPEN.match(lines[i])
        if opening is None:
            i += 1
            continue
        start = i
        i += 1
        body: list[str] = []
        while i < len(lines) and not FENCE_CLOSE.match(lines[i]):
            body.append(lines[i])
            i += 1
        if i == len(lines):
            raise AssertionError(f"{doc}:{start + 1}: unclosed ```python block")
        i += 1
        marker = MARKER.match(lines[start - 1]) if start else None
        kind, raises = parse_marker(marker["what"]) if marker else ("run", None)
        code = textwrap.dedent("\n".join(body)) + "\n"
        found.append(Snippet(doc, start + 1, code, kind, raises))
    return found


SNIPPETS = [s for doc in DOCS for s in extract(doc)]
EXECUTED = [s for s in SNIPPETS if s.kind != "fragment"]
TYPE_CHECKED = EXECUTED


def compile_fragment(code: str, name: str) -> None:
    """Compile as it stands, or as the body of an ``async def`` (``await``, ``async for``)."""
    try:
        ast.parse(code, name)
    except SyntaxError:
        wrapped = "async def _fragment():\n" + textwrap.indent(code, "    ")
        ast.parse(wrapped, name)


# --- the prelude: production URLs -> a local exchange ---------------------------------------

PRELUDE = '''\
"""Run a doc snippet with Kraken's production URLs substituted by a local exchange's."""
import atexit
import runpy
import sys
from urllib.parse import urlsplit

import kraken_ws.auth
import kraken_ws.transport.websockets as ws_transport
from kraken_ws.testing import LocalExchange, ThreadedExchange

_runner = None


def _exchange() -> LocalExchange:
    global _runner
    if _runner is None:
        _runner = ThreadedExchange(LocalExchange(rate=20, seed=1))
        _runner.start()
        atexit.register(_runner.stop)
    assert _runner.exchange is not None
    return _runner.exchange


def _local_ws(url: str) -> str:
    attr = {
        "wss://ws.kraken.com/v2": "ws_url",
        "wss://ws-auth.kraken.com/v2": "auth_ws_url",
        "wss://ws-l3.kraken.com/v2": "l3_ws_url",
    }.get(url.rstrip("/"))
    if attr is not None:
        return getattr(_exchange(), attr)
    if urlsplit(url).hostname not in ("127.0.0.1", "localhost"):
        raise OSError(f"doc snippet tried to reach {url} (tests have no internet)")
    return url


_connect = ws_transport.connect


async def connect(url, **options):
    return await _connect(_local_ws(url), **options)


ws_transport.connect = connect

_token_init = kraken_ws.auth.TokenProvider.__init__


def token_init(self, key, secret, *, rest_url="https://api.kraken.com", **options):
    if rest_url.rstrip("/") == "https://api.kraken.com":
        rest_url = _exchange().rest_url
    elif urlsplit(rest_url).hostname not in ("127.0.0.1", "localhost"):
        raise OSError(f"doc snippet tried to reach {rest_url} (tests have no internet)")
    _token_init(self, key, secret, rest_url=rest_url, **options)


kraken_ws.auth.TokenProvider.__init__ = token_init

snippet = sys.argv[1]
sys.argv = sys.argv[1:]
runpy.run_path(snippet, run_name="__main__")
'''


@dataclass(frozen=True)
class Outcome:
    returncode: int
    stdout: str
    stderr: str
    seconds: float


class Runs:
    """Every executable snippet, started at once (each takes seconds, mostly waiting)."""

    def __init__(self, workdir: Path) -> None:
        env = dict(os.environ, PYTHONASYNCIODEBUG="", PYTHONDONTWRITEBYTECODE="1")
        env.pop("PYTHONPATH", None)
        self._started: dict[str, tuple[subprocess.Popen[str], float]] = {}
        self._done: dict[str, Outcome] = {}
        for snippet in EXECUTED:
            # Each snippet runs in its own directory: files it writes cannot collide.
            cwd = workdir / snippet.module
            cwd.mkdir()
            script = f"{snippet.module}.py"
            (cwd / script).write_text(snippet.code, encoding="utf-8")
            if snippet.kind == "pytest":
                command = [sys.executable, "-W", "error", "-m", "pytest", "-q"]
                command += ["-p", "no:cacheprovider", "--rootdir", str(cwd)]
                command += ["-o", "asyncio_default_fixture_loop_scope=function", script]
            else:
                (cwd / "_prelude.py").write_text(PRELUDE, encoding="utf-8")
                command = [sys.executable, "-W", "error", "_prelude.py", script]
            process = subprocess.Popen(
                command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            self._started[snippet.id] = (process, time.monotonic())

    def outcome(self, snippet: Snippet) -> Outcome:
        if snippet.id not in self._done:
            process, began = self._started[snippet.id]
            try:
                out, err = process.communicate(
                    timeout=max(0.1, began + RUN_TIMEOUT - time.monotonic())
                )
            except subprocess.TimeoutExpired:
                process.kill()
                out, err = process.communicate()
                err += f"\n[killed after {RUN_TIMEOUT:.0f} s]"
            self._done[snippet.id] = Outcome(process.returncode, out, err, time.monotonic() - began)
        return self._done[snippet.id]

    def kill(self) -> None:
        for process, _ in self._started.values():
            if process.poll() is None:
                process.kill()
                process.communicate()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("doc_snippets")


@pytest.fixture(scope="module")
def runs(workdir: Path) -> Iterator[Runs]:
    started = Runs(workdir)
    yield started
    started.kill()


# --- the tests -------------------------------------------------------------------------------


def test_every_doc_has_its_snippets_found() -> None:
    assert len(SNIPPETS) >= 15
    assert {s.doc.name for s in SNIPPETS} >= {"README.md", "quickstart.md", "client.md"}
    assert EXECUTED
    assert TYPE_CHECKED
    # A marker must sit directly above a fence: one anywhere else is a typo that would
    # silently turn a fragment into a program (or the reverse).
    for doc in DOCS:
        lines = doc.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines, 1):
            if "<!-- snippet" in line:
                marker = MARKER.match(line)
                assert marker, f"{doc.name}:{number}: malformed marker"
                parse_marker(marker["what"])
                nxt = lines[number] if number < len(lines) else ""
                assert FENCE_OPEN.match(nxt), (
                    f"{doc.name}:{number}: marker not above a python block"
                )


@pytest.mark.parametrize("snippet", SNIPPETS, ids=lambda s: s.id)
def test_snippet_compiles(snippet: Snippet) -> None:
    if snippet.kind == "fragment":
        compile_fragment(snippet.code, snippet.id)
    else:
        ast.parse(snippet.code, snippet.id)  # a program: no top-level await


def test_snippets_type_check(workdir: Path, runs: Runs, monkeypatch: pytest.MonkeyPatch) -> None:
    """One ``mypy --strict`` run over every program, with the project's config (and cache)."""
    from mypy import api

    # `runs` has started the snippets: mypy works while they run. The package is an editable
    # install (an import hook mypy cannot follow), so it is found from the repository, as
    # `make lint` finds it.
    monkeypatch.chdir(ROOT)
    files = {str(workdir / s.module / f"{s.module}.py"): s for s in TYPE_CHECKED}
    stdout, stderr, status = api.run(
        ["--strict", "--config-file", str(ROOT / "pyproject.toml"), "--no-error-summary", *files]
    )

    def doc_line(match: re.Match[str]) -> str:
        snippet = files[match["file"]]
        return f"{snippet.doc.relative_to(ROOT)}:{snippet.line + int(match['line'])}:"

    report = re.sub(r"^(?P<file>\S+\.py):(?P<line>\d+):", doc_line, stdout, flags=re.M)
    assert status == 0, report + stderr


@pytest.mark.parametrize("snippet", EXECUTED, ids=lambda s: s.id)
def test_snippet_runs(snippet: Snippet, runs: Runs) -> None:
    outcome = runs.outcome(snippet)
    report = f"{snippet.id} ({outcome.seconds:.1f} s)\n{outcome.stdout}\n{outcome.stderr}"
    if snippet.raises is None:
        assert outcome.returncode == 0, report
        assert "Traceback" not in outcome.stderr, report
    else:
        assert outcome.returncode == 1, report
        last = outcome.stderr.strip().splitlines()
        raised = [line for line in last if re.match(r"^[\w.]+(Error|Exception)\b", line)]
        assert raised, report
        name = raised[-1].split(":")[0].rsplit(".", 1)[-1]
        assert name == snippet.raises, report
