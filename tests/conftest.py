"""Suite-wide settings."""

from __future__ import annotations

import os

from hypothesis import settings

# CI runs the property tests derandomized: the same examples every run, so a green main stays
# green. Locally they explore new examples on every run (and keep failures in .hypothesis/).
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
