"""Shared test settings: a derandomized Hypothesis profile for CI, a quick one for local runs."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# CI runs the same examples every time and keeps no example database between runs.
settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))
