"""Generated files are up to date: each is regenerated in memory and compared byte for byte."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import pkgutil
from pathlib import Path
from types import ModuleType

import kraken_ws.models

TOOLS = Path(__file__).resolve().parent.parent / "tools"


def _load_tool(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_tools_{name}", TOOLS / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gen_models_init = _load_tool("gen_models_init")


def test_models_init_is_up_to_date() -> None:
    expected = gen_models_init.render()
    actual = gen_models_init.TARGET.read_text()
    assert actual == expected, (
        "kraken_ws/models/__init__.py is stale (a model module's __all__ changed); "
        f"regenerate it with `{gen_models_init.COMMAND}` and commit the result"
    )


def test_generator_sees_every_model_module() -> None:
    # The generator finds modules on disk without importing them; pkgutil must agree.
    public = {
        info.name.removeprefix("kraken_ws.models.")
        for info in pkgutil.walk_packages(kraken_ws.models.__path__, "kraken_ws.models.")
        if not info.ispkg and not any(p.startswith("_") for p in info.name.split("."))
    }
    assert set(gen_models_init.model_modules()) == public | gen_models_init.PRIVATE_REEXPORTED


def test_models_reexports_every_non_function_export() -> None:
    # What the static generator read is what the modules export at runtime.
    expected = set()
    for name in gen_models_init.model_modules():
        module = importlib.import_module(f"kraken_ws.models.{name}")
        for item in module.__all__:
            value = getattr(module, item)
            if not inspect.isfunction(value):
                expected.add(item)
                assert getattr(kraken_ws.models, item) is value, item
    assert set(kraken_ws.models.__all__) == expected


gen_model_docs = _load_tool("gen_model_docs")


def test_model_docstrings_are_up_to_date() -> None:
    stale = [str(p.relative_to(gen_model_docs.ROOT)) for p in gen_model_docs.stale()]
    assert not stale, (
        f"the generated Attributes: sections of {stale} are stale (a field or its description "
        f"changed); regenerate them with `{gen_model_docs.COMMAND}` and commit the result"
    )


def test_model_docs_generator_sees_every_model_module() -> None:
    public = {
        info.name
        for info in pkgutil.walk_packages(kraken_ws.models.__path__, "kraken_ws.models.")
        if not info.ispkg
    }
    seen = {gen_model_docs._module_name(p) for p in gen_model_docs.model_files()}
    assert seen == public
