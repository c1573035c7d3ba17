"""Write (or check) the ``Attributes:`` section of every wire model's docstring.

Run ``python tools/gen_model_docs.py [--check]``.

`help()`, IDE hovers and the docs site read a class's docstring from the source, and a pydantic
model's field descriptions live on its fields (attribute docstrings), where neither ``help()``
nor a hover over the class shows them. So every model class of ``kraken_ws.models`` ends its
docstring with a generated Google-style section, one entry per field in ``model_fields`` order
(inherited fields included)::

    Attributes:
        order_type (OrderType): Execution model of the order. One of ``"limit"``, ...
        order_qty (PositiveDecimal | None, optional): Order quantity in the base asset. ...

The type is the field's annotation as written in the source (so aliases keep their names), and
a ``Literal`` alias is expanded to its allowed values. ``optional`` marks a field with a default.
A request envelope's ``params`` entry names the fields of its params model.

The section is delimited by convention: it starts at the docstring's last ``Attributes:`` line
and runs to the closing quotes, so everything above it is hand-written and kept; write nothing
after it. The models are imported (the descriptions are pydantic's), the sources are rewritten
in place, and the output is stable under ``ruff format`` so that ``tests/test_generated.py`` can
compare it byte for byte.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import json
import re
import sys
import textwrap
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "kraken_ws" / "models"
COMMAND = "python tools/gen_model_docs.py"
SECTION = "Attributes:"
LINE_LENGTH = 100


class GeneratorError(Exception):
    """A model the generator cannot document."""


def model_files() -> list[Path]:
    """Every source file of ``kraken_ws.models`` that may define models."""
    return sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py")


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


class _Source:
    """One parsed model module (a plain class: tests load this file without registering it)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.text = path.read_text()
        self.tree = ast.parse(self.text, str(path))

    def classes(self) -> list[ast.ClassDef]:
        return [node for node in self.tree.body if isinstance(node, ast.ClassDef)]


def _annotations(source: _Source, node: ast.ClassDef) -> dict[str, str]:
    """Field name -> annotation as written, for one class body."""
    out = {}
    for stmt in node.body:
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            text = ast.get_source_segment(source.text, stmt.annotation)
            assert text is not None
            out[stmt.target.id] = " ".join(text.split())
    return out


def _literal_values(annotation: Any) -> list[Any]:
    """Every ``Literal`` value reachable in a runtime annotation (unions, lists, Annotated)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return list(typing.get_args(annotation))
    if origin is typing.Annotated:
        return _literal_values(typing.get_args(annotation)[0])
    values: list[Any] = []
    if origin in (typing.Union, types.UnionType, list, tuple, set, frozenset):
        for arg in typing.get_args(annotation):
            values += [v for v in _literal_values(arg) if v not in values]
    return values


def _shown(value: Any) -> str:
    return f"``{json.dumps(value)}``"


def _entry(name: str, type_text: str, field: Any, indent: str) -> str:
    """One ``name (type[, optional]): description`` entry, wrapped to the line length."""
    description = " ".join((field.description or "").split())
    if not description:
        raise GeneratorError(f"field {name!r} has no description (add an attribute docstring)")
    if field.alias is not None and field.alias != name:
        description += f" Wire name ``{field.alias}``."
    values = _literal_values(field.annotation)
    # Listed unless the annotation or the description already names every value.
    named = all(f"``{v}``" in description for v in values)
    if values and not named and "Literal[" not in type_text:
        description += " One of " + ", ".join(_shown(v) for v in values) + "."
    nested = field.annotation
    if name == "params" and isinstance(nested, type) and issubclass(nested, BaseModel):
        # A request envelope: name what goes in it, so help() on the request leads to them.
        names = ", ".join(f"``{n}``" for n in nested.model_fields)
        description += f" Its fields (described in `{nested.__name__}`): {names}."
    optional = "" if field.is_required() else ", optional"
    first = f"{indent}    {name} ({type_text}{optional}): "
    wrapped = textwrap.wrap(
        description,
        width=LINE_LENGTH,
        initial_indent=first,
        subsequent_indent=indent + " " * 8,
        break_long_words=False,
        break_on_hyphens=False,
    )
    return "\n".join(wrapped)


def _section(model: type[BaseModel], annotations: dict[str, str], indent: str) -> str:
    entries = []
    for name, field in model.model_fields.items():
        type_text = annotations.get(name)
        if type_text is None:
            raise GeneratorError(f"{model.__qualname__}.{name}: annotation not found in source")
        entries.append(_entry(name, type_text, field, indent))
    return f"{indent}{SECTION}\n" + "\n".join(entries)


_QUOTES = re.compile(r'^(?P<prefix>[rRuU]?)(?P<quote>"""|\'\'\')(?P<body>.*)(?P=quote)$', re.S)


def _new_docstring(raw: str, section: str, indent: str, where: str) -> str:
    """The docstring literal ``raw`` with its generated section replaced by ``section``."""
    match = _QUOTES.match(raw)
    if match is None:
        raise GeneratorError(f"{where}: the docstring must be triple-quoted")
    body = match["body"]
    marker = f"\n{indent}{SECTION}\n"
    at = body.rfind(marker)
    head = (body[:at] if at >= 0 else body).rstrip()
    if "\\" in section and not match["prefix"].lower().startswith("r"):
        section = section.replace("\\", "\\\\")
    return f'{match["prefix"]}"""{head}\n\n{section}\n{indent}"""'


def _models_of(module_name: str) -> dict[str, type[BaseModel]]:
    module = importlib.import_module(module_name)
    return {
        name: value
        for name, value in vars(module).items()
        if isinstance(value, type)
        and issubclass(value, BaseModel)
        and value.__module__ == module_name
        and value.model_fields
    }


def render_file(path: Path, annotations: dict[tuple[str, str], dict[str, str]]) -> str:
    """The text ``path`` must have: every model's docstring with its generated section."""
    source = _Source(path)
    module_name = _module_name(path)
    models = _models_of(module_name)
    lines = source.text.splitlines(keepends=True)
    # Replace from the bottom up so that earlier line numbers stay valid.
    for node in sorted(source.classes(), key=lambda n: n.lineno, reverse=True):
        model = models.get(node.name)
        if model is None:
            continue
        where = f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"
        first = node.body[0] if node.body else None
        if not (
            isinstance(first, ast.Expr)
            and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)
        ):
            raise GeneratorError(f"{where}: a model needs a docstring")
        merged: dict[str, str] = {}
        for klass in reversed(model.__mro__):
            merged |= annotations.get((klass.__module__, klass.__qualname__), {})
        indent = " " * first.col_offset
        raw = ast.get_source_segment(source.text, first.value)
        assert raw is not None
        assert first.end_lineno is not None
        docstring = _new_docstring(raw, _section(model, merged, indent), indent, where)
        start, end = first.lineno - 1, first.end_lineno
        lines[start:end] = [f"{indent}{docstring}\n"]
    return "".join(lines)


def _all_annotations() -> dict[tuple[str, str], dict[str, str]]:
    """(module, class) -> field annotations as written, for every class of the package."""
    out = {}
    for path in model_files():
        source = _Source(path)
        for node in source.classes():
            out[(_module_name(path), node.name)] = _annotations(source, node)
    return out


def render() -> dict[Path, str]:
    """``{path: text}`` for every model source file, with every generated section current."""
    annotations = _all_annotations()
    return {path: render_file(path, annotations) for path in model_files()}


def stale() -> list[Path]:
    """The model files whose generated sections are out of date."""
    return [path for path, text in render().items() if path.read_text() != text]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a docstring is stale")
    args = parser.parse_args(argv)
    files = render()
    changed = [path for path, text in files.items() if path.read_text() != text]
    if args.check:
        for path in changed:
            print(f"{path.relative_to(ROOT)}: model docstrings are stale", file=sys.stderr)
        if changed:
            print(f"run `{COMMAND}`", file=sys.stderr)
            return 1
        print(f"{len(files)} model files up to date")
        return 0
    for path in changed:
        path.write_text(files[path])
        print(f"wrote {path.relative_to(ROOT)}")
    print(f"{len(changed)} of {len(files)} model files rewritten")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
