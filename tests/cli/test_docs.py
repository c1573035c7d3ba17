"""The documentation site builds offline with `mkdocs build --strict` (what `make docs` runs)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MKDOCS = Path(sys.executable).parent / "mkdocs"


@pytest.mark.skipif(
    not MKDOCS.exists() and shutil.which("mkdocs") is None, reason="mkdocs not installed"
)
def test_mkdocs_build_strict(tmp_path: Path) -> None:
    exe = str(MKDOCS) if MKDOCS.exists() else "mkdocs"
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    done = subprocess.run(
        [exe, "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    site = tmp_path / "site"

    def page(name: str) -> Path:
        # page.html with use_directory_urls: false (a site that works from file://), else
        # page/index.html.
        flat, directory = site / f"{name}.html", site / name / "index.html"
        return flat if flat.is_file() else directory

    for name in ("reliability", "migrating", "recording", "testing", "cli", "reference/client"):
        assert page(name).is_file(), name
    html = "".join(p.read_text(encoding="utf-8") for p in site.rglob("*.html"))
    assert "fonts.googleapis.com" not in html  # theme.font: false, nothing fetched at view time
    assert "add_order" in page("reference/client").read_text(encoding="utf-8")
