"""FHIR R4 (``fhir.resources``, R4B models): one subject's record as a Bundle and back.

Write: ``subject_bundle(tables, usubjid, schemas, score)`` builds a validated Bundle
(collection) from the subject's collected-table rows; ``questionnaire(schema)`` builds the
Questionnaire of one instrument from its declaration. Read: ``bundle_tables(bundle, schemas)``
validates a Bundle and returns the collected tables (``FhirRecord``). The instrument
declarations come in as data (``Instrument.schema()`` plus ``qscat`` and ``context``); the CLI
wires the registry and the instruments in. See docs/interop.md.
"""

from __future__ import annotations

from atopic.interop.fhir.codes import LAB_LOINC
from atopic.interop.fhir.questionnaire import Schema, questionnaire, questionnaire_url
from atopic.interop.fhir.read import FhirRecord, bundle_tables, parse_bundle
from atopic.interop.fhir.write import Scorer, match_instrument, subject_bundle

__all__ = [
    "LAB_LOINC",
    "FhirRecord",
    "Schema",
    "Scorer",
    "bundle_tables",
    "match_instrument",
    "parse_bundle",
    "questionnaire",
    "questionnaire_url",
    "subject_bundle",
]
