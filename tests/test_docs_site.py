"""The documentation site as a reader gets it: built strict, read from disk, complete.

One ``mkdocs build --strict`` into a temporary folder (a few seconds, offline) is shared by the
tests below; they read the HTML the way a browser opened on ``site/index.html`` would.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
import typing
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel

import kraken_ws.models
from kraken_ws.models import common

REPO = Path(__file__).resolve().parents[1]
MKDOCS = [sys.executable, "-m", "mkdocs", "build", "--strict"]
ROLE = re.compile(r":(?:py:)?(?:class|meth|func|attr|mod|data|exc|obj):(?:`|<code>)")
HREF = re.compile(r'(?:href|src)="([^"]*)"')


def _build(config: Path, site: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run(
        [*MKDOCS, "-f", str(config), "-d", str(site)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    result = _build(REPO / "mkdocs.yml", out, REPO)
    assert result.returncode == 0, result.stderr[-4000:]
    return out


@pytest.fixture(scope="module")
def pages(site: Path) -> dict[str, str]:
    return {str(p.relative_to(site)): p.read_text() for p in site.rglob("*.html")}


def _public_names() -> Iterator[str]:
    return (n for n in kraken_ws.models.__all__ if n[0].isupper())


def test_no_raw_rest_role_anywhere(pages: dict[str, str]) -> None:
    hits = {name: ROLE.findall(html) for name, html in pages.items()}
    assert {k: v for k, v in hits.items() if v} == {}


def test_every_public_model_name_has_a_reference_entry(pages: dict[str, str]) -> None:
    reference = "".join(html for name, html in pages.items() if name.startswith("reference/"))
    ids = set(re.findall(r'id="kraken_ws\.models\.[\w.]*?\.(\w+)"', reference))
    assert sorted(set(_public_names()) - ids) == []


def _entry(pages: dict[str, str], name: str) -> str:
    for page, text in pages.items():
        if not page.startswith("reference/models"):
            continue
        match = re.search(rf'<h3 id="kraken_ws\.models\.[\w.]*\.{name}"', text)
        if match:
            end = text.find('<div class="doc doc-object', match.end())
            return text[match.start() : end if end != -1 else len(text)]
    raise AssertionError(f"no entry for {name}")


def test_every_model_entry_lists_its_fields_with_descriptions(pages: dict[str, str]) -> None:
    checked = 0
    for name in _public_names():
        model = getattr(kraken_ws.models, name)
        if not (isinstance(model, type) and issubclass(model, BaseModel)) or model.__name__ != name:
            continue  # not a model, or another name for one (StatusMessage = StatusUpdate)
        entry = _entry(pages, name)
        for field, info in model.model_fields.items():
            cell = rf"<td><code>(?:<span[^>]*>)?{field}(?:</span>)?</code></td>"
            assert re.search(cell, entry), (name, field)
            if info.description:
                # The description's first words, as rendered (code spans become <code>).
                words = re.sub(r"``?([^`]*)``?", r"\1", info.description).split()[:3]
                text = re.sub(r"<[^>]+>", "", entry)
                assert " ".join(words) in " ".join(text.split()), (name, field, words)
        checked += 1
    assert checked > 100


def test_every_literal_alias_shows_its_values(pages: dict[str, str]) -> None:
    # The table on the types page is generated from the code: one row per alias, every value.
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", pages["reference/types.html"], re.S):
        cells = [
            html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
            for c in re.findall(r"<td>(.*?)</td>", row, re.S)
        ]
        if len(cells) == 2:
            rows[cells[0]] = cells[1]
    aliases = [n for n in common.__all__ if typing.get_origin(getattr(common, n)) is typing.Literal]
    assert len(aliases) > 15
    for name in aliases:
        shown = [v.strip() for v in rows[name].split(",")]
        assert shown == [repr(v) for v in typing.get_args(getattr(common, name))], name
    # Signatures link an alias to its entry.
    assert 'href="types.html#kraken_ws.models.common.OrderType"' in pages["reference/client.html"]


def test_links_work_from_disk(site: Path, pages: dict[str, str]) -> None:
    # use_directory_urls: false, so every internal link names a file that exists (a directory
    # URL opens a directory listing from file://).
    for name, text in pages.items():
        if name == "404.html":
            continue  # served by a web server at any path, so its links are absolute
        base = (site / name).parent
        for href in HREF.findall(text):
            if re.match(r"^(?:[a-z]+:|#|//)", href) or not href:
                continue
            path = href.split("#", 1)[0].split("?", 1)[0]
            assert not path.endswith("/"), (name, href)
            assert (base / path).is_file(), (name, href)


def test_protocol_citations_link_to_the_protocol_notes(pages: dict[str, str]) -> None:
    html = pages["reference/testing.html"]
    assert 'href="../protocol.html#ref-1-2">Protocol notes §1.2</a>' in html
    assert "docs/protocol.md" not in html


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("Use :class:`OrderBook` here.", "reST role"),
        ("The file format::\n\n    {}\n", "literal-block lead-in"),
        ("Kraken has no resume (docs/protocol.md#ref-1-2).", "repository path as citation"),
    ],
)
def test_what_the_site_must_not_show_fails_the_strict_build(
    tmp_path: Path, text: str, complaint: str
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(REPO / "docs" / "hooks.py", docs / "hooks.py")
    (docs / "index.md").write_text(f"# Page\n\n{text}\n")
    config = tmp_path / "mkdocs.yml"
    config.write_text(
        "site_name: t\nstrict: true\nuse_directory_urls: false\n"
        "hooks:\n  - docs/hooks.py\nexclude_docs: |\n  hooks.py\n"
    )
    result = _build(config, tmp_path / "site", tmp_path)
    assert result.returncode != 0
    assert complaint in result.stderr
