"""Write the synthetic REDCap example (export.csv, dictionary.csv, mapping.toml) beside this file.

Run with the project's Python: ``python examples/redcap/make_example.py``. Seeded; four records,
two events; the peak pruritus NRS is a repeating instrument (form ``nrs``, its own date): one
instance per event, and record 1 has a second, unscheduled re-scoring at week 4 three days after
the visit. Deliberate faults for the rejects report: an event the mapping does not list, an
off-grid EASI score, an unmapped column, an IgE that is not a number and a repeat row of the
POEM form, which the mapping does not let repeat.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

HERE = Path(__file__).parent
REGIONS = {"hn": "head_neck", "ul": "upper_limbs", "tr": "trunk", "ll": "lower_limbs"}
SIGNS = ("erythema", "induration", "excoriation", "lichenification")
SIGN_CHOICES = "0, 0 | 1, 1 | 15, 1.5 | 2, 2 | 25, 2.5 | 3, 3"
POEM = "0, No days | 1, 1-2 days | 2, 3-4 days | 3, 5-6 days | 4, Every day"
HEADER = (
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
)


def main() -> None:
    """Write the three files."""
    rng = random.Random(7)
    fields: list[tuple[str, ...]] = [
        ("record_id", "demographics", "", "text", "Record ID", "", "", "", "", ""),
        ("site", "demographics", "", "dropdown", "Site", "01, Leipzig | 02, Lyon", "", "", "", ""),
        ("sex", "demographics", "", "radio", "Sex", "1, Male | 2, Female", "", "", "", ""),
        ("age", "demographics", "", "text", "Age (years)", "", "", "integer", "0", "120"),
        ("easi_date", "easi", "", "text", "Assessment date", "", "", "date_ymd", "", ""),
    ]
    for short, region in REGIONS.items():
        for sign in SIGNS:
            label = f"{region.replace('_', ' ').title()}: {sign}"
            fields.append(
                (f"easi_{short}_{sign}", "easi", "", "radio", label, SIGN_CHOICES, "", "", "", "")
            )
        fields.append(
            (
                f"easi_{short}_area",
                "easi",
                "",
                "text",
                f"{region} area (%)",
                "",
                "",
                "number",
                "0",
                "100",
            )
        )
    fields += [
        (f"poem_{i}", "poem", "", "radio", f"POEM question {i}", POEM, "", "", "", "")
        for i in range(1, 8)
    ]
    fields += [
        (
            "viga",
            "viga",
            "",
            "checkbox",
            "vIGA-AD",
            "0, 0 | 1, 1 | 2, 2 | 3, 3 | 4, 4",
            "",
            "",
            "",
            "",
        ),
        ("nrs_date", "nrs", "", "text", "NRS date", "", "", "date_ymd", "", ""),
        (
            "ppnrs",
            "nrs",
            "",
            "dropdown",
            "Peak pruritus NRS",
            " | ".join(f"{i}, {i}" for i in range(11)),
            "",
            "",
            "",
            "",
        ),
        ("lab_date", "labs", "", "text", "Sample date", "", "", "date_ymd", "", ""),
        ("ige", "labs", "", "text", "Total IgE (IU/mL)", "", "", "number", "0", ""),
        ("eos", "labs", "", "text", "Eosinophils (10^9/L)", "", "", "number", "0", ""),
        ("nurse_note", "labs", "", "notes", "Note", "", "", "", "", ""),
    ]
    with (HERE / "dictionary.csv").open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        writer.writerows(fields)

    columns = [
        "record_id",
        "redcap_event_name",
        "redcap_repeat_instrument",
        "redcap_repeat_instance",
    ]
    repeating = {"nrs_date", "ppnrs"}  # form nrs: only in its repeat rows
    for f in fields[1:]:
        if f[3] == "checkbox":
            columns += [f"{f[0]}___{c}" for c in range(5)]
        else:
            columns.append(f[0])
    columns += ["demographics_complete", "easi_complete"]
    events = [("baseline_arm_1", "2024-03-04"), ("week_4_arm_1", "2024-04-01")]
    rows = []
    for record in range(1, 5):
        for e, (event, day) in enumerate(events):
            row = dict.fromkeys(columns, "")
            row.update(record_id=str(record), redcap_event_name=event)
            if e == 0:
                row.update(site=rng.choice(["01", "02"]), sex=rng.choice(["1", "2"]))
                row["age"] = str(rng.randint(18, 70))
                row["demographics_complete"] = "2"
            row["easi_date"] = day
            row["lab_date"] = day
            for short in REGIONS:
                for sign in SIGNS:
                    row[f"easi_{short}_{sign}"] = rng.choice(["0", "1", "15", "2", "25", "3"])
                row[f"easi_{short}_area"] = str(rng.choice([0, 5, 12.5, 30, 60]))
            for i in range(1, 8):
                row[f"poem_{i}"] = str(rng.randint(0, 4))
            for c in range(5):
                row[f"viga___{c}"] = "0"
            row[f"viga___{rng.randint(1, 4)}"] = "1"
            nrs = dict.fromkeys(columns, "")
            nrs.update(
                record_id=str(record),
                redcap_event_name=event,
                redcap_repeat_instrument="nrs",
                redcap_repeat_instance="1",
                nrs_date=day,
                ppnrs=str(rng.randint(0, 10)),
            )
            row["ige"] = str(round(rng.lognormvariate(6, 1), 1))
            row["eos"] = str(round(rng.uniform(0.1, 1.2), 2))
            row["easi_complete"] = "2"
            assert not any(row[c] for c in repeating)
            rows += [row, nrs]
    rows[6]["easi_tr_area"] = "130"  # above the dictionary's maximum (record 2, week 4)
    rows[10]["ige"] = "high"  # not a number (record 3, week 4)
    rows[12]["nurse_note"] = "sample haemolysed"  # not mapped (record 4, baseline)
    ids = ("record_id", "redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance")
    extras = [
        ("1", "week_4_arm_1", "nrs", "2", {"nrs_date": "2024-04-04", "ppnrs": "5"}),  # re-scored
        ("2", "week_4_arm_1", "poem", "2", {"poem_1": "2"}),  # POEM may not repeat
        ("4", "week_12_arm_1", "nrs", "1", {"ppnrs": "3"}),  # an event the mapping lacks
    ]
    for *key, values in extras:
        extra = dict.fromkeys(columns, "")
        extra.update(zip(ids, key, strict=True), **values)
        rows.append(extra)
    with (HERE / "export.csv").open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
