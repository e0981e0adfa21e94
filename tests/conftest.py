"""Shared pytest configuration.

Numba-CUDA simulator tests live in ``tests/cudasim/``. The simulator must be enabled before numba is
imported, so those tests run in their own pytest process (``tests/test_cudasim.py`` launches it with
``NUMBA_ENABLE_CUDASIM=1``); the main session does not collect them.
"""
import os
import pathlib

import pytest

collect_ignore = [] if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1" else ["cudasim"]

SHARED_DATA = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def shared_data():
    """Path of ../shared/data, or skip when it is absent (tests must pass without it)."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent")
    return SHARED_DATA
