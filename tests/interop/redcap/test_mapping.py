"""Bad mapping files are refused with an InvalidInput naming the file and the TOML key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from atopic.errors import InvalidInput
from atopic.interop.redcap import read_mapping

from .conftest import EXAMPLE

GOOD = (EXAMPLE / "mapping.toml").read_text()


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('studyid = "RC-DEMO"', "", "study.studyid"),
        ('easi_hn_erythema = "EASI101"', 'easi_hn_erythema = "EASI999"', "items.easi_hn_erythema"),
        ('easi_hn_erythema = "EASI101"', 'no_such_field = "EASI101"', "items.no_such_field"),
        ('ppnrs = "PPNRS101"', 'age = "PPNRS101"', "items.age"),
        ("[labs.IGE]", "[labs.IGX]", "labs.IGX"),
        ('unit = "IU/mL"', 'unit = "kU/L"', "labs.IGE.unit"),
        ("visitnum = 1", 'visitnum = "one"', "events.baseline_arm_1.visitnum"),
        ("[instruments.EASI]", "[instruments.EASY]", "instruments.EASY"),
        ('SEX = "sex"', 'GENDER = "sex"', "dm.GENDER"),
        ('{ code = "POEM101", use = "code" }', '{ code = "POEM101", use = "both" }', "use"),
    ],
)
def test_bad_mapping_names_the_path(
    tmp_path: Path, example_dictionary: Any, schemas: Any, old: str, new: str, key: str
) -> None:
    assert old in GOOD
    path = tmp_path / "bad.toml"
    path.write_text(GOOD.replace(old, new, 1))
    with pytest.raises(InvalidInput) as error:
        read_mapping(path, example_dictionary, schemas)
    assert str(path) in error.value.subject
    assert key in error.value.field


def test_invalid_toml_is_refused(tmp_path: Path, example_dictionary: Any, schemas: Any) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[study\n")
    with pytest.raises(InvalidInput, match="must be valid TOML"):
        read_mapping(path, example_dictionary, schemas)
