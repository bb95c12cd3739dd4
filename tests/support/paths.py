"""Where things are, for tests in any folder: the repository root, the shipped examples, test data."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "rules" / "examples"
TEST_DATA = REPO / "tests" / "data"
