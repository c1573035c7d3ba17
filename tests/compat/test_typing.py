"""mypy --strict on python-kraken-sdk style code (typing_sample.py) against the facade."""

from __future__ import annotations

from pathlib import Path

from mypy import api


def test_pks_style_code_type_checks() -> None:
    sample = Path(__file__).with_name("typing_sample.py")
    stdout, stderr, status = api.run(["--strict", "--no-error-summary", str(sample)])
    assert status == 0, stdout + stderr
