"""Define-XML 2.1: the metadata document that travels with submission datasets.

``define_xml(datasets, study=...)`` describes the datasets just written (their ``DatasetSpec``
and file name): an ODM 1.3.2 root with the ``def`` (Define-XML 2.1) and ``xlink`` namespaces;
``def:Standards`` (SDTMIG 3.4 and/or ADaMIG 1.3, CDISC CT); per dataset an ``ItemGroupDef`` with
``def:Structure``, ``Purpose``, ``def:Class``, its ``ItemRef``s in column order (``Mandatory`` for
the declaration's required columns, ``KeySequence`` for its keys) and a ``def:leaf`` pointing at
the data file; an ``ItemDef`` per variable (``DataType``, ``Length``, ``SignificantDigits``,
``def:DisplayFormat``, ``Description`` with the label); a ``CodeList`` for every set of
controlled terms in the declarations; and a ``def:CommentDef`` on QS saying that atopic keeps
clinician-rated instruments there (reference/trials.md).

Data types: text ``text``; SDTM ``--DTC`` text ``datetime`` (ISO 8601, possibly partial); whole
numbers ``integer`` (Length: digits of the largest magnitude); other numbers ``float`` (Length 8,
SignificantDigits the most decimal places shown); ADaM dates ``integer`` with
``def:DisplayFormat`` ``DATE9.`` (SAS dates, as in the XPT file). OIDs are those of the
Dataset-JSON files: ``IG.<dataset>``, ``IT.<dataset>.<variable>``.

The CodeLists are sponsor-defined subsets or extensions of CDISC codelists (see
``atopic.tables.collected``), so they carry no ``def:StandardOID`` and no NCI codes.

``define_problems(text)`` lists what makes a define.xml inconsistent (a reference without its
definition, duplicate OIDs, keys not numbered 1..n); the tests and ``write_define`` use it. The
tests also validate what is written against the CDISC Define-XML 2.1 schema.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from atopic import __version__
from atopic.errors import InvalidInput
from atopic.interop.cdisc.dataset_json import item_group_oid, item_oid
from atopic.interop.cdisc.metadata import DatasetSpec, Variable
from atopic.interop.cdisc.standards import CT_VERSION, IG_VERSION, QS_COMMENT, STANDARDS

ODM = "http://www.cdisc.org/ns/odm/v1.3"
DEF = "http://www.cdisc.org/ns/def/v2.1"
XLINK = "http://www.w3.org/1999/xlink"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
DEFINE_VERSION = "2.1.0"

ET.register_namespace("", ODM)
ET.register_namespace("def", DEF)
ET.register_namespace("xlink", XLINK)


def _o(tag: str) -> str:
    return f"{{{ODM}}}{tag}"


def _d(tag: str) -> str:
    return f"{{{DEF}}}{tag}"


def define_xml(
    datasets: Sequence[tuple[DatasetSpec, str]],
    *,
    study: str,
    description: str | None = None,
    created: dt.datetime | None = None,
) -> str:
    """The define.xml text describing ``datasets``: (metadata, data file name relative to the
    define.xml) pairs, each a declared table (``STANDARDS``). ``study`` is the STUDYID."""
    created = created or dt.datetime.now(dt.UTC).replace(microsecond=0, tzinfo=None)
    for spec, _ in datasets:
        if spec.name not in STANDARDS:
            raise InvalidInput("define.xml", "dataset", spec.name, "one of " + ", ".join(STANDARDS))
    models = list(dict.fromkeys(STANDARDS[s.name].model for s, _ in datasets))
    root = ET.Element(
        _o("ODM"),
        {
            "ODMVersion": "1.3.2",
            "FileType": "Snapshot",
            "FileOID": f"atopic.{study}.define",
            "CreationDateTime": created.isoformat(),
            "Originator": "atopic",
            "SourceSystem": "atopic",
            "SourceSystemVersion": __version__,
            _d("Context"): "Other",
        },
    )
    study_el = ET.SubElement(root, _o("Study"), {"OID": f"ST.{study}"})
    globals_el = ET.SubElement(study_el, _o("GlobalVariables"))
    ET.SubElement(globals_el, _o("StudyName")).text = study
    ET.SubElement(globals_el, _o("StudyDescription")).text = description or study
    ET.SubElement(globals_el, _o("ProtocolName")).text = study
    mdv = ET.SubElement(
        study_el,
        _o("MetaDataVersion"),
        {
            "OID": f"MDV.{study}",
            "Name": f"{study} {' and '.join(models)} metadata",
            "Description": f"Datasets written by atopic {__version__}",
            _d("DefineVersion"): DEFINE_VERSION,
        },
    )
    standards = ET.SubElement(mdv, _d("Standards"))
    for model in models:
        name, version = IG_VERSION[model]
        ET.SubElement(
            standards,
            _d("Standard"),
            {
                "OID": f"STD.{name}",
                "Name": name,
                "Type": "IG",
                "Version": version,
                "Status": "Final",
            },
        )
        ET.SubElement(
            standards,
            _d("Standard"),
            {
                "OID": f"STD.CT.{model}",
                "Name": "CDISC/NCI",
                "Type": "CT",
                "PublishingSet": model,
                "Version": CT_VERSION,
                "Status": "Final",
            },
        )
    codelists = _codelists(datasets)
    comments: dict[str, str] = {}
    for spec, file_name in datasets:
        _item_group(mdv, spec, file_name, comments)
    for spec, _ in datasets:
        for variable in spec.variables:
            _item_def(mdv, spec, variable, codelists)
    for (values, kind), oid in codelists.items():
        _codelist(mdv, oid, values, kind)
    for oid, text in comments.items():
        comment = ET.SubElement(mdv, _d("CommentDef"), {"OID": oid})
        _description(comment, text)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_define(
    datasets: Sequence[tuple[DatasetSpec, str]],
    path: str | Path,
    *,
    study: str,
    description: str | None = None,
    created: dt.datetime | None = None,
) -> Path:
    """Write ``define_xml(...)`` to ``path``; raises ``InvalidInput`` if the result is not
    consistent (``define_problems``), which would be a bug."""
    text = define_xml(datasets, study=study, description=description, created=created)
    problems = define_problems(text)
    if problems:
        raise InvalidInput("define.xml", "content", problems[0], "consistent")
    path = Path(path)
    path.write_text(text, encoding="utf-8")
    return path


def define_problems(text: str) -> list[str]:
    """What is wrong with a define.xml: not well-formed XML; not an ODM root with a Define-XML
    2.1 MetaDataVersion; duplicate OIDs; an ItemRef without its ItemDef, a CodeListRef without
    its CodeList, a def:CommentOID without its def:CommentDef, a def:ArchiveLocationID without its
    def:leaf, a def:StandardOID without its def:Standard; KeySequence not 1..n within a dataset;
    an ItemDef or CodeList nobody references. Empty list: consistent."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as error:
        return [f"not well-formed XML: {error}"]
    if root.tag != _o("ODM"):
        return [f"root element is {root.tag}, not ODM"]
    mdv = root.find(f"{_o('Study')}/{_o('MetaDataVersion')}")
    if mdv is None or mdv.get(_d("DefineVersion")) != DEFINE_VERSION:
        return [f"no MetaDataVersion with def:DefineVersion {DEFINE_VERSION}"]
    problems: list[str] = []
    oids: dict[str, set[str]] = {}
    for tag in (
        _o("ItemGroupDef"),
        _o("ItemDef"),
        _o("CodeList"),
        _d("CommentDef"),
        _d("Standard"),
    ):
        seen: set[str] = set()
        for element in mdv.iter(tag):
            oid = element.get("OID", "")
            if oid in seen:
                problems.append(f"duplicate OID {oid}")
            seen.add(oid)
        oids[tag] = seen
    leaves = {leaf.get("ID") for leaf in mdv.iter(_d("leaf"))}
    used_items: set[str] = set()
    used_codelists: set[str] = set()
    for group in mdv.iter(_o("ItemGroupDef")):
        name = group.get("Name")
        keys = []
        for ref in group.iter(_o("ItemRef")):
            item = ref.get("ItemOID", "")
            used_items.add(item)
            if item not in oids[_o("ItemDef")]:
                problems.append(f"{name}: ItemRef {item} has no ItemDef")
            if ref.get("KeySequence") is not None:
                keys.append(int(ref.get("KeySequence", "0")))
        if sorted(keys) != list(range(1, len(keys) + 1)):
            problems.append(f"{name}: KeySequence {sorted(keys)} is not 1..{len(keys)}")
        if group.get(_d("ArchiveLocationID")) not in leaves:
            problems.append(f"{name}: def:ArchiveLocationID has no def:leaf")
        if group.find(_d("Class")) is None:
            problems.append(f"{name}: no def:Class")
    for element in mdv.iter():
        comment = element.get(_d("CommentOID"))
        if comment is not None and comment not in oids[_d("CommentDef")]:
            problems.append(f"def:CommentOID {comment} has no def:CommentDef")
        standard = element.get(_d("StandardOID"))
        if standard is not None and standard not in oids[_d("Standard")]:
            problems.append(f"def:StandardOID {standard} has no def:Standard")
    for ref in mdv.iter(_o("CodeListRef")):
        codelist = ref.get("CodeListOID", "")
        used_codelists.add(codelist)
        if codelist not in oids[_o("CodeList")]:
            problems.append(f"CodeListRef {codelist} has no CodeList")
    problems += [f"ItemDef {o} is not referenced" for o in oids[_o("ItemDef")] - used_items]
    problems += [f"CodeList {o} is not referenced" for o in oids[_o("CodeList")] - used_codelists]
    return problems


def _description(parent: ET.Element, text: str) -> None:
    description = ET.SubElement(parent, _o("Description"))
    ET.SubElement(description, _o("TranslatedText"), {XML_LANG: "en"}).text = text


def _item_group(
    mdv: ET.Element, spec: DatasetSpec, file_name: str, comments: dict[str, str]
) -> None:
    standard = STANDARDS[spec.name]
    attributes = {"OID": item_group_oid(spec.name)}
    if standard.model == "SDTM":
        attributes["Domain"] = spec.name
    attributes |= {
        "Name": spec.name,
        "SASDatasetName": spec.name,
        "Repeating": "Yes" if standard.repeating else "No",
        "IsReferenceData": "No",
        "Purpose": standard.purpose,
        _d("Structure"): standard.structure,
        _d("StandardOID"): f"STD.{IG_VERSION[standard.model][0]}",
        _d("ArchiveLocationID"): f"LF.{spec.name}",
    }
    if spec.name == "QS":
        attributes[_d("CommentOID")] = "COM.QS"
        comments["COM.QS"] = QS_COMMENT
    group = ET.SubElement(mdv, _o("ItemGroupDef"), attributes)
    _description(group, spec.label)
    for order, variable in enumerate(spec.variables, start=1):
        ref = {
            "ItemOID": item_oid(spec.name, variable.name),
            "OrderNumber": str(order),
            "Mandatory": "Yes" if variable.required else "No",
        }
        if variable.key is not None:
            ref["KeySequence"] = str(variable.key)
        ET.SubElement(group, _o("ItemRef"), ref)
    klass = ET.SubElement(group, _d("Class"), {"Name": standard.klass})
    if standard.sub_class:
        ET.SubElement(klass, _d("SubClass"), {"Name": standard.sub_class})
    leaf = ET.SubElement(
        group, _d("leaf"), {"ID": f"LF.{spec.name}", f"{{{XLINK}}}href": file_name}
    )
    ET.SubElement(leaf, _d("title")).text = file_name


def _define_type(variable: Variable) -> str:
    if variable.kind == "string":
        return "datetime" if variable.iso8601 else "text"
    return {"integer": "integer", "float": "float", "date": "integer"}[variable.kind]


def _item_def(
    mdv: ET.Element,
    spec: DatasetSpec,
    variable: Variable,
    codelists: dict[tuple[tuple[object, ...], str], str],
) -> None:
    attributes = {
        "OID": item_oid(spec.name, variable.name),
        "Name": variable.name,
        "SASFieldName": variable.name,
        "DataType": _define_type(variable),
        "Length": str(variable.length),
    }
    if variable.kind == "float":
        attributes["SignificantDigits"] = str(variable.digits or 0)
    if variable.kind == "date":
        attributes[_d("DisplayFormat")] = "DATE9."
    item = ET.SubElement(mdv, _o("ItemDef"), attributes)
    _description(item, variable.label)
    if variable.allowed is not None:
        key = (tuple(variable.allowed), variable.kind)
        ET.SubElement(item, _o("CodeListRef"), {"CodeListOID": codelists[key]})


def _codelists(
    datasets: Sequence[tuple[DatasetSpec, str]],
) -> dict[tuple[tuple[object, ...], str], str]:
    """One CodeList per distinct set of terms, named after the first variable that uses it
    (``CL.SEX``; ``CL.<dataset>.<variable>`` when that name is taken by other terms)."""
    out: dict[tuple[tuple[object, ...], str], str] = {}
    for spec, _ in datasets:
        for variable in spec.variables:
            if variable.allowed is None:
                continue
            key = (tuple(variable.allowed), variable.kind)
            if key in out:
                continue
            base = spec.table.column(variable.name).name if spec.table else variable.name  # type: ignore[union-attr]
            oid = f"CL.{base}"
            if oid in out.values() or len(variable.allowed) == 1:
                oid = f"CL.{spec.name}.{base}"
            out[key] = oid
    return out


def _codelist(mdv: ET.Element, oid: str, values: tuple[object, ...], kind: str) -> None:
    data_type = "text" if kind == "string" else "float"
    codelist = ET.SubElement(
        mdv, _o("CodeList"), {"OID": oid, "Name": oid.removeprefix("CL."), "DataType": data_type}
    )
    for order, value in enumerate(values, start=1):
        ET.SubElement(
            codelist,
            _o("EnumeratedItem"),
            {"CodedValue": str(value), "OrderNumber": str(order)},
        )
