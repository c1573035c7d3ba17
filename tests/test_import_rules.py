"""The sans-I/O layers import no I/O modules; only the adapters touch websockets and httpx."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import kraken_ws

PACKAGE = Path(kraken_ws.__file__).parent
PURE = ("protocol", "models", "book")
IO_MODULES = {"asyncio", "websockets", "httpx", "time", "socket", "h11"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", PURE)
def test_pure_layers_do_no_io(package: str) -> None:
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(_imports(path) & IO_MODULES)
        for path in (PACKAGE / package).rglob("*.py")
        if _imports(path) & IO_MODULES
    }
    assert not offenders, offenders


def _importers(module: str) -> set[str]:
    return {
        str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py") if module in _imports(path)
    }


def test_only_the_transport_imports_websockets_on_the_client_side() -> None:
    client_side = {p for p in _importers("websockets") if not p.startswith("testing/")}
    assert client_side <= {"transport/websockets.py", "transport/_receive.py"}, client_side


def test_only_auth_imports_httpx_on_the_client_side() -> None:
    client_side = {
        p for p in _importers("httpx") if not p.startswith(("testing/", "compat/", "cli"))
    }
    assert client_side <= {"auth.py"}, client_side


# --- the graph between the package's parts -----------------------------------------------------
#
# A "part" is a subpackage (client, protocol, models, book, testing, cli, recording, compat,
# transport) or a top-level public module (exceptions, events, auth, ratelimit, reconcile,
# reconnect, endpoints...). Top-level private modules (_version) belong to the root package.


def _part(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1 or parts[1].startswith("_"):
        return "kraken_ws"
    return parts[1]


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        name = ".".join(rel.parts)
        found[name.removesuffix(".__init__")] = path
    return found


def _kraken_imports(module: str, path: Path) -> list[tuple[str, list[str]]]:
    """(imported module, imported names) for every import of kraken_ws code in ``module``."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if target == "kraken_ws" or target.startswith("kraken_ws."):
                out.append((target, [alias.name for alias in node.names]))
        elif isinstance(node, ast.Import):
            out += [(a.name, []) for a in node.names if a.name.startswith("kraken_ws")]
    return out


def _target_of(target: str, name: str, modules: dict[str, Path]) -> str:
    # "from kraken_ws.x import y": y may be a submodule.
    candidate = f"{target}.{name}"
    return candidate if candidate in modules else target


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    edges: dict[str, set[str]] = {}
    for module, path in modules.items():
        if module == "kraken_ws":
            continue  # the facade re-exports every part: it is the top, not a part
        for target, names in _kraken_imports(module, path):
            for resolved in {_target_of(target, n, modules) for n in names} or {target}:
                if resolved == "kraken_ws":
                    continue
                src, dst = _part(module), _part(resolved)
                if src != dst:
                    edges.setdefault(src, set()).add(dst)
    return edges


def test_parts_import_each_other_without_cycles() -> None:
    edges = _graph()
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> None:
        if node in path:
            cycle = [*path[path.index(node) :], node]
            raise AssertionError("import cycle: " + " -> ".join(cycle))
        if node in done:
            return
        for nxt in sorted(edges.get(node, ())):
            visit(nxt, [*path, node])
        done.add(node)

    for node in sorted(edges):
        visit(node, [])
    # The layers the architecture page draws.
    assert "client" not in edges.get("protocol", set())
    assert not {"client", "compat", "cli", "testing"} & edges.get("book", set())


def test_no_private_imports_across_parts() -> None:
    """A part uses another part's public names only; its private ones are its own business."""
    modules = _modules()
    offenders = []
    for module, path in modules.items():
        for target, names in _kraken_imports(module, path):
            if _part(target) == _part(module) or target == "kraken_ws":
                continue
            private_module = any(p.startswith("_") for p in target.split(".")[1:])
            private_names = [n for n in names if n.startswith("_")]
            if private_module or private_names:
                offenders.append(f"{module}: {target} {private_names or ''}".rstrip())
    assert not offenders, offenders
