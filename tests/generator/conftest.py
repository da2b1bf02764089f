import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "generator"))  # the in-tree generator, installed or not

PROFILES = sorted((ROOT / "profiles").glob("*.yaml"))


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite tests/generator/golden/ from the current generator (review the diff!)")


@pytest.fixture
def update_golden(request) -> bool:
    return request.config.getoption("--update-golden") or os.environ.get("TLSGEN_UPDATE_GOLDEN") == "1"


@pytest.fixture
def write_profile(tmp_path):
    def write(text: str, name: str = "profile.yaml") -> str:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    return write
