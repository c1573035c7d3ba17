"""Write (or check) kraken_ws/models/__init__.py: `python tools/gen_models_init.py [--check]`.

The package re-exports, from every public module of ``kraken_ws.models`` (and from the private
``_base``, whose field types every model uses), each name of the module's ``__all__`` except
functions: types, type aliases and constants are re-exported, helper functions
(``message_tag``...) stay in their module.

The sources are read with ``ast``, never imported, so a stale or broken ``__init__.py`` can always
be regenerated. The output is already in ruff's isort and format style, so
``tests/test_generated.py`` can compare it byte for byte.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "kraken_ws" / "models"
TARGET = PACKAGE / "__init__.py"
COMMAND = "python tools/gen_models_init.py"

#: Private modules whose ``__all__`` is re-exported all the same.
PRIVATE_REEXPORTED = frozenset({"_base"})

HEADER = f'''"""Every wire model of the Kraken Spot WebSocket v2 protocol (generated re-exports).

Generated from the ``__all__`` of each module below (helper functions stay in their module).
Do not edit: regenerate with ``{COMMAND}`` (``tests/test_generated.py`` fails
when this file is stale).
"""
'''


class GeneratorError(Exception):
    """A model module the generator cannot read."""


def _natural(text: str) -> list[int | str]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def _is_constant(name: str) -> bool:
    return len(name) > 1 and name.isupper()


def import_member_key(name: str) -> tuple[int, list[int | str], str]:
    """Ruff isort order of imported names: CONSTANTS, Classes, variables; case-insensitive."""
    kind = 0 if _is_constant(name) else 1 if name[:1].isupper() else 2
    return (kind, _natural(name.lower()), name)


def all_key(name: str) -> tuple[int, list[int | str]]:
    """Ruff RUF022 (isort-style) order of ``__all__``: CONSTANTS, CamelCase, others."""
    kind = 0 if _is_constant(name) else 1 if name[:1].isupper() else 2
    return (kind, _natural(name))


def _module_key(module: str) -> list[int | str]:
    return _natural(module.lower())


def model_modules() -> list[str]:
    """Modules (dotted, relative to ``kraken_ws.models``) whose ``__all__`` is re-exported."""
    found = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "__init__.py":
            continue
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        dotted = ".".join(parts)
        if any(part.startswith("_") for part in parts) and dotted not in PRIVATE_REEXPORTED:
            continue
        found.append(dotted)
    return sorted(found, key=_module_key)


def exported_names(module: str) -> list[str]:
    """The non-function names of ``module.__all__``, read from its source."""
    path = PACKAGE.joinpath(*module.split(".")).with_suffix(".py")
    tree = ast.parse(path.read_text(), str(path))
    functions = set()
    declared: list[str] | None = None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            functions.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
                try:
                    declared = list(ast.literal_eval(node.value))
                except ValueError as exc:
                    raise GeneratorError(f"{path}: __all__ must be a literal list") from exc
    if declared is None:
        raise GeneratorError(f"{path}: no __all__; every model module declares its public names")
    return [name for name in declared if name not in functions]


def render() -> str:
    """The text ``kraken_ws/models/__init__.py`` must have."""
    owner: dict[str, str] = {}
    blocks = []
    for module in model_modules():
        names = exported_names(module)
        for name in names:
            if name in owner:
                raise GeneratorError(f"{name} is exported by both {owner[name]} and {module}")
            owner[name] = module
        if not names:
            continue
        members = "".join(f"    {n},\n" for n in sorted(names, key=import_member_key))
        blocks.append(f"from .{module} import (\n{members})\n")
    exported = "".join(f'    "{n}",\n' for n in sorted(owner, key=all_key))
    return f"{HEADER}\n{''.join(blocks)}\n__all__ = [\n{exported}]\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the file is stale")
    args = parser.parse_args(argv)
    text = render()
    relative = TARGET.relative_to(ROOT)
    if args.check:
        if TARGET.read_text() != text:
            print(f"{relative} is stale; run `{COMMAND}`", file=sys.stderr)
            return 1
        print(f"{relative} up to date")
        return 0
    TARGET.write_text(text)
    print(f"wrote {relative} ({text.count(chr(10))} lines)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
