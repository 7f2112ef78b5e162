"""The README's configuration table is the Settings class, rendered."""

from __future__ import annotations

import re
from pathlib import Path

from advisor.config import settings_reference

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_settings_table_matches_the_settings_class():
    text = README.read_text(encoding="utf-8")
    match = re.search(r"<!-- settings:start -->\n(.*?)\n<!-- settings:end -->", text, re.S)
    assert match, "README lacks the settings markers"
    assert match.group(1) == settings_reference(), (
        "README's settings table is stale: regenerate it with `python -m advisor.config`"
    )


def test_readme_names_the_two_commands():
    text = README.read_text(encoding="utf-8")
    assert "make run" in text and "make test" in text
