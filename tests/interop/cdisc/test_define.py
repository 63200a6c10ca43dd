"""Define-XML 2.1: well-formed, internally consistent (every reference has its definition), and
saying what the declarations say: labels, keys, required columns, controlled terms, file names."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import polars as pl
import pytest

from atopic.errors import InvalidInput
from atopic.interop.cdisc import DECLARATIONS, define_problems, write_datasets
from atopic.interop.cdisc.define import DEF, ODM, XLINK, define_xml
from atopic.interop.cdisc.metadata import dataset_spec

NS = {"odm": ODM, "def": DEF}


@pytest.fixture(scope="module")
def sdtm_define(
    collected: dict[str, pl.DataFrame], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    out = tmp_path_factory.mktemp("sdtm")
    return write_datasets(collected, out, "xpt")["DEFINE"]


@pytest.fixture(scope="module")
def adam_define(
    analysis: dict[str, pl.DataFrame], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    out = tmp_path_factory.mktemp("adam")
    return write_datasets(analysis, out, "json")["DEFINE"]


@pytest.mark.parametrize("which", ["sdtm_define", "adam_define"])
def test_define_is_well_formed_and_consistent(which: str, request: pytest.FixtureRequest) -> None:
    path: Path = request.getfixturevalue(which)
    text = path.read_text(encoding="utf-8")
    root = ET.fromstring(text)
    assert root.tag == f"{{{ODM}}}ODM"
    assert root.get(f"{{{DEF}}}Context") == "Other"
    assert define_problems(text) == []
    mdv = root.find("odm:Study/odm:MetaDataVersion", NS)
    assert mdv is not None
    assert mdv.get(f"{{{DEF}}}DefineVersion") == "2.1.0"
    item_defs = {i.get("OID") for i in mdv.iterfind("odm:ItemDef", NS)}
    codelists = {c.get("OID") for c in mdv.iterfind("odm:CodeList", NS)}
    for ref in mdv.iterfind("odm:ItemGroupDef/odm:ItemRef", NS):
        assert ref.get("ItemOID") in item_defs
    for ref in mdv.iterfind("odm:ItemDef/odm:CodeListRef", NS):
        assert ref.get("CodeListOID") in codelists
    for group in mdv.iterfind("odm:ItemGroupDef", NS):
        leaf = group.find("def:leaf", NS)
        assert leaf is not None
        assert (path.parent / leaf.get(f"{{{XLINK}}}href", "")).is_file()
        assert group.get(f"{{{DEF}}}Structure", "").startswith("One record per")
        assert group.find("def:Class", NS) is not None


def test_item_groups_carry_the_declared_labels_keys_and_required_columns(
    sdtm_define: Path, collected: dict[str, pl.DataFrame]
) -> None:
    mdv = ET.parse(sdtm_define).getroot().find("odm:Study/odm:MetaDataVersion", NS)
    assert mdv is not None
    descriptions = {
        i.get("OID"): i.findtext("odm:Description/odm:TranslatedText", namespaces=NS)
        for i in mdv.iterfind("odm:ItemDef", NS)
    }
    for group in mdv.iterfind("odm:ItemGroupDef", NS):
        name = group.get("Name", "")
        table = DECLARATIONS[name]
        refs = group.findall("odm:ItemRef", NS)
        assert [r.get("ItemOID") for r in refs] == [
            f"IT.{name}.{c}" for c in collected[name].columns
        ]
        keys = sorted(
            (int(r.get("KeySequence", 0)), r.get("ItemOID")) for r in refs if r.get("KeySequence")
        )
        assert [oid for _, oid in keys] == [
            f"IT.{name}.{k}" for k in table.keys if k in collected[name].columns
        ]
        for ref in refs:
            column = ref.get("ItemOID", "").split(".")[-1]
            declared = table.column(column)
            if declared is not None:
                assert descriptions[ref.get("ItemOID")] == declared.label
                assert ref.get("Mandatory") == ("Yes" if declared.required else "No")


def test_codelists_hold_the_declared_terms(sdtm_define: Path) -> None:
    mdv = ET.parse(sdtm_define).getroot().find("odm:Study/odm:MetaDataVersion", NS)
    assert mdv is not None
    sex = mdv.find("odm:ItemDef[@OID='IT.DM.SEX']/odm:CodeListRef", NS)
    assert sex is not None
    codelist = mdv.find(f"odm:CodeList[@OID='{sex.get('CodeListOID')}']", NS)
    assert codelist is not None
    terms = [e.get("CodedValue") for e in codelist.iterfind("odm:EnumeratedItem", NS)]
    assert tuple(terms) == DECLARATIONS["DM"]["SEX"].allowed


def test_qs_says_clinician_rated_scales_are_kept_there(sdtm_define: Path) -> None:
    mdv = ET.parse(sdtm_define).getroot().find("odm:Study/odm:MetaDataVersion", NS)
    assert mdv is not None
    qs = mdv.find("odm:ItemGroupDef[@Name='QS']", NS)
    assert qs is not None
    comment = mdv.find(f"def:CommentDef[@OID='{qs.get(f'{{{DEF}}}CommentOID')}']", NS)
    assert comment is not None
    text = comment.findtext("odm:Description/odm:TranslatedText", namespaces=NS) or ""
    assert "clinician-rated" in text
    assert "RS" in text


def test_adam_dates_are_integers_with_date9_and_dtc_is_datetime(
    adam_define: Path, sdtm_define: Path
) -> None:
    adam = ET.parse(adam_define).getroot()
    trtsdt = adam.find(".//odm:ItemDef[@OID='IT.ADSL.TRTSDT']", NS)
    assert trtsdt is not None
    assert (trtsdt.get("DataType"), trtsdt.get(f"{{{DEF}}}DisplayFormat")) == ("integer", "DATE9.")
    assert adam.find(".//odm:ItemGroupDef[@Name='BDS']", NS).get("Purpose") == "Analysis"  # type: ignore[union-attr]
    sdtm = ET.parse(sdtm_define).getroot()
    aestdtc = sdtm.find(".//odm:ItemDef[@OID='IT.AE.AESTDTC']", NS)
    assert aestdtc is not None
    assert aestdtc.get("DataType") == "datetime"
    aval = adam.find(".//odm:ItemDef[@OID='IT.BDS.AVAL']", NS)
    assert aval is not None
    assert aval.get("DataType") == "float"
    assert aval.get("SignificantDigits")


def _small_define() -> str:
    frame = pl.DataFrame({"STUDYID": ["S1"], "USUBJID": ["S1-1"], "SEX": ["F"]})
    return define_xml([(dataset_spec(frame, "DM"), "dm.xpt")], study="S1")


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (
            '<ItemDef OID="IT.DM.SEX"',
            '<ItemDef OID="IT.DM.SEXX"',
            "ItemRef IT.DM.SEX has no ItemDef",
        ),
        ('<CodeList OID="CL.SEX"', '<CodeList OID="CL.SEXX"', "CodeListRef CL.SEX has no CodeList"),
        ('KeySequence="2"', 'KeySequence="3"', "KeySequence [1, 3]"),
        ('ID="LF.DM"', 'ID="LF.XX"', "def:ArchiveLocationID has no def:leaf"),
        ("</ODM>", "", "not well-formed"),
    ],
)
def test_the_consistency_check_finds_broken_references(old: str, new: str, problem: str) -> None:
    text = _small_define()
    assert define_problems(text) == []
    broken = text.replace(old, new, 1)
    assert broken != text
    assert any(problem in p for p in define_problems(broken))


def test_undeclared_datasets_are_refused() -> None:
    frame = pl.DataFrame({"STUDYID": ["S1"]})
    with pytest.raises(InvalidInput, match=r"define\.xml dataset must be one of DM"):
        define_xml([(dataset_spec(frame, "XX", label="Other"), "xx.xpt")], study="S1")


@pytest.mark.parametrize("which", ["sdtm_define", "adam_define"])
def test_define_is_valid_against_the_define_xml_2_1_schema(
    which: str, request: pytest.FixtureRequest
) -> None:
    # The CDISC Define-XML 2.1 XSD (with ODM 1.3.2 beneath it), as odmlib packages it.
    from odmlib.odm_parser import ODMSchemaValidator

    path: Path = request.getfixturevalue(which)
    validator = ODMSchemaValidator(standard="define", version="2.1")
    errors = list(validator.xsd.iter_errors(str(path)))
    assert [error.reason for error in errors[:5]] == []
