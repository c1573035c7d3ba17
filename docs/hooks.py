"""MkDocs hooks for the kraken-ws site (registered under ``hooks:`` in mkdocs.yml).

Two jobs, both so the site cannot drift from the code:

* **Generated reference pages.** A page may hold a marker comment that this hook expands, at
  build time, into mkdocstrings directives (and tables) read from the package itself:

  - ``<!-- kraken-ws:models PACKAGE_OR_MODULE ... -->``: one section per module, one entry per
    name in the module's ``__all__``. A new model gets its entry without anyone editing a page,
    and the build fails if a name of ``kraken_ws.models.__all__`` ends up on no page.
  - ``<!-- kraken-ws:aliases MODULE ... -->``: a table of every ``Literal`` alias in those
    modules' ``__all__`` with its allowed values, each name linked to its entry.

* **Names become links.** A code span that is exactly the name of a documented object
  (`` `OrderBook` `` in a docstring or a guide page) links to its entry, when the name is
  unambiguous; docstrings stay plain text for ``help()`` and IDE hovers.

* **No reST left in the rendered site.** Docstrings are Markdown (Google style). A reST role
  (``:class:`X```) or a literal-block ``::`` that slips in renders as raw text; every page's HTML
  is scanned and each hit is a warning, which ``strict: true`` turns into a failed build.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import re
import types
import typing
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.utils import get_relative_url

log = logging.getLogger("mkdocs.hooks.kraken_ws")

_MARKER = re.compile(r"<!--\s*kraken-ws:(models|aliases)\s+([^>]*?)\s*-->")

# A role as it renders from Markdown: `:class:` then a code span (or the raw backtick).
_REST_ROLE = re.compile(
    r":(?:py:)?(?:class|meth|func|attr|mod|data|exc|obj|const|ref|term):(?=<code>|`)"
)
# A paragraph ending in "::" is a reST literal-block lead-in; in Markdown it stays as text.
_LITERAL_LEAD_IN = re.compile(r"(?<!:)::</p>")
# Double backticks that survived as text (an unbalanced ``literal`` pair).
_DOUBLE_BACKTICK = re.compile(r"``")
# A repository path cited as prose: readers of the site (and of help()) have no docs/ folder.
_REPO_CITATION = re.compile(r"docs/protocol\.md#ref-")

# Every name of kraken_ws.models.__all__ a models marker rendered (checked after the build,
# when the site has models markers at all).
_documented: set[str] = set()
_markers_seen: list[str] = []

# Short name -> every (page URL, anchor) documenting an object of that name, from all pages.
_anchors: dict[str, set[tuple[str, str]]] = {}
_OBJECT_ID = re.compile(r'<h[1-6] id="(kraken_ws\.[\w.]+)"')
# A code span holding one identifier (group 2); group 1 skips links, code blocks and headings.
_CODE_NAME = re.compile(
    r"(<a\b[^>]*>.*?</a>|<pre\b.*?</pre>|<h[1-6]\b.*?</h[1-6]>)|<code>([A-Za-z_]\w*)</code>", re.S
)


def _modules(name: str) -> list[types.ModuleType]:
    """The module, or the public submodules of the package, in the protocol's order."""
    module = importlib.import_module(name)
    if not hasattr(module, "__path__"):
        return [module]
    subs = [
        importlib.import_module(f"{name}.{info.name}")
        for info in pkgutil.iter_modules(module.__path__)
        if not info.name.startswith("_")
    ]
    return sorted(subs, key=_protocol_rank)


def _protocol_rank(module: types.ModuleType) -> tuple[int, str]:
    # Channels and methods in the order Kraken documents them: the Channel and Method Literals,
    # matched by a channel module's name or a method module's request model.
    from kraken_ws.models.common import Channel, Method

    short = module.__name__.rsplit(".", 1)[1]
    order: tuple[str, ...] = typing.get_args(Channel) + typing.get_args(Method)
    if short in order:
        return order.index(short), short
    for name in getattr(module, "__all__", ()):
        model = getattr(module, name)
        fields = getattr(model, "model_fields", {})
        if name.endswith("Request") and "method" in fields:
            method = fields["method"].default
            if method in order:
                return order.index(method), short
    return len(order), short


def _summary(module: types.ModuleType) -> str:
    doc = (module.__doc__ or "").strip()
    return doc.split("\n\n", 1)[0].replace("\n", " ") if doc else ""


def _models_markdown(targets: list[str]) -> str:
    _markers_seen.append(" ".join(targets))
    out: list[str] = []
    for target in targets:
        for module in _modules(target):
            short = module.__name__.rsplit(".", 1)[1].lstrip("_")
            out.append(f"## `{short}` {{#{module.__name__}}}\n")
            summary = _summary(module)
            if summary:
                out.append(summary + "\n")
            for name in getattr(module, "__all__", ()):
                if not name[0].isupper():
                    continue  # functions are documented with the module that uses them
                _documented.add(name)
                out.append(
                    f"::: {module.__name__}.{name}\n"
                    "    options:\n"
                    "      heading_level: 3\n"
                    "      show_root_full_path: false\n"
                    "      show_root_toc_entry: true\n"
                    "      members: false\n"
                )
    return "\n".join(out)


def _literal_values(value: Any) -> tuple[Any, ...] | None:
    """The allowed values of a ``Literal`` (or an optional one), else None."""
    if typing.get_origin(value) is typing.Literal:
        return typing.get_args(value)
    return None


def _aliases_markdown(targets: list[str]) -> str:
    rows = ["| alias | allowed values |", "| --- | --- |"]
    for target in targets:
        for module in _modules(target):
            for name in getattr(module, "__all__", ()):
                values = _literal_values(getattr(module, name))
                if values is None:
                    continue
                shown = ", ".join(f"`{v!r}`" if isinstance(v, str) else f"`{v}`" for v in values)
                rows.append(f"| [`{name}`][{module.__name__}.{name}] | {shown} |")
    if len(rows) == 2:
        raise PluginError(f"kraken-ws:aliases {' '.join(targets)}: no Literal alias found")
    return "\n".join(rows) + "\n"


def on_pre_build(**_: Any) -> None:
    """Start each build (``mkdocs serve`` rebuilds) with no model documented yet."""
    _documented.clear()
    _markers_seen.clear()
    _anchors.clear()


def on_page_markdown(markdown: str, **_: Any) -> str:
    """Expand the ``kraken-ws:`` markers of a page."""

    def expand(match: re.Match[str]) -> str:
        kind, targets = match.group(1), match.group(2).split()
        if kind == "models":
            return _models_markdown(targets)
        return _aliases_markdown(targets)

    return _MARKER.sub(expand, markdown)


def on_page_content(html: str, page: Any, **_: Any) -> str:
    """Warn (a failure under ``strict``) on reST markup or repository citations in a page."""
    # Code blocks may show anything; code spans too, for the citation check only (the protocol
    # page names its own anchors), since a role is followed by one.
    prose = re.sub(r"<pre.*?</pre>", "", html, flags=re.S)
    no_code = re.sub(r"<code>[^<]*</code>", "", prose)
    for text, pattern, what in (
        (prose, _REST_ROLE, "a reST role (write a Markdown code span or an autorefs link)"),
        (prose, _LITERAL_LEAD_IN, "a reST '::' literal-block lead-in (end the sentence with ':')"),
        (prose, _DOUBLE_BACKTICK, "unbalanced ``double backticks``"),
        (no_code, _REPO_CITATION, "a repository path as citation ([Protocol notes §N.M][ref-N-M])"),
    ):
        for match in pattern.finditer(text):
            context = re.sub(r"<[^>]+>", "", text[max(0, match.start() - 80) : match.end() + 40])
            log.warning("%s: %s: ...%s...", page.file.src_uri, what, " ".join(context.split()))
    for match in _OBJECT_ID.finditer(html):
        ident = match.group(1)
        _anchors.setdefault(ident.rsplit(".", 1)[1], set()).add((page.url, ident))
    return html


def on_post_page(output: str, page: Any, **_: Any) -> str:
    """Link each code span naming one documented object (every page is rendered by now)."""

    def link(match: re.Match[str]) -> str:
        if match.group(1) is not None:
            return match.group(0)  # inside a link, a code block or a heading: leave it
        name = match.group(2)
        targets = _anchors.get(name, set())
        if len(targets) != 1 or not name[0].isupper():
            return match.group(0)
        ((url, ident),) = targets
        href = ("" if url == page.url else get_relative_url(url, page.url)) + f"#{ident}"
        return f'<a class="autorefs autorefs-internal" href="{href}"><code>{name}</code></a>'

    head, sep, body = output.partition('<article class="md-content__inner')
    return head + sep + _CODE_NAME.sub(link, body) if sep else output


def on_post_build(**_: Any) -> None:
    """Fail when a public name of ``kraken_ws.models`` has no entry on any page."""
    import kraken_ws.models

    if not _markers_seen:
        return
    missing = sorted(n for n in kraken_ws.models.__all__ if n[0].isupper() and n not in _documented)
    if missing:
        raise PluginError(f"no reference entry for kraken_ws.models: {', '.join(missing)}")
