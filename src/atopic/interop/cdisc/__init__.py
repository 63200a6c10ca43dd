"""CDISC formats: SAS transport v5 (XPT), Dataset-JSON v1.1 and Define-XML 2.1.

Write one table: ``write_xpt(frame, path, "DM")`` / ``write_dataset_json(frame, path, "DM")``;
read it back exactly: ``read_xpt(path).frame`` / ``read_dataset_json(path).frame``. Write a
folder of tables and its define.xml: ``write_datasets(tables, out, "xpt" | "json")``; read it:
``read_datasets(out)``. ``define_problems(text)`` checks a define.xml's internal consistency.
Labels, keys and controlled terms come from the declarations in ``atopic.tables``.
See docs/interop.md for the formats' limits and what atopic refuses.
"""

from __future__ import annotations

from atopic.interop.cdisc.dataset_json import JsonDataset, read_dataset_json, write_dataset_json
from atopic.interop.cdisc.define import define_problems, define_xml, write_define
from atopic.interop.cdisc.folder import FORMATS, read_datasets, write_datasets
from atopic.interop.cdisc.metadata import DECLARATIONS, DatasetSpec, Variable, dataset_spec
from atopic.interop.cdisc.standards import ADAM_NAMES, SDTM_NAMES, STANDARDS
from atopic.interop.cdisc.xpt import XptDataset, check_xpt, read_xpt, write_xpt

__all__ = [
    "ADAM_NAMES",
    "DECLARATIONS",
    "FORMATS",
    "SDTM_NAMES",
    "STANDARDS",
    "DatasetSpec",
    "JsonDataset",
    "Variable",
    "XptDataset",
    "check_xpt",
    "dataset_spec",
    "define_problems",
    "define_xml",
    "read_dataset_json",
    "read_datasets",
    "read_xpt",
    "write_dataset_json",
    "write_datasets",
    "write_define",
    "write_xpt",
]
