"""The README names every subcommand (datasette's tests/test_docs.py idea)."""

from __future__ import annotations

from pathlib import Path

import pytest

from atopic.cli import main

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


@pytest.mark.parametrize("name", sorted(main.commands))
def test_every_subcommand_is_in_the_readme(name: str) -> None:
    assert f"atopic {name}" in README, f"README.md does not mention `atopic {name}`"
