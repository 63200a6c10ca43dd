"""Write the synthetic REDCap example (export.csv, dictionary.csv, mapping.toml) beside this file.

Run with the project's Python: ``python examples/redcap/make_example.py``. Seeded; four records,
two events, plus deliberate faults for the rejects report: an event the mapping does not list,
an off-grid EASI score, an unmapped column and an IgE that is not a number.
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

    columns = ["record_id", "redcap_event_name"]
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
            row["ppnrs"] = str(rng.randint(0, 10))
            row["ige"] = str(round(rng.lognormvariate(6, 1), 1))
            row["eos"] = str(round(rng.uniform(0.1, 1.2), 2))
            row["easi_complete"] = "2"
            rows.append(row)
    rows[3]["easi_tr_area"] = "130"  # above the dictionary's maximum
    rows[5]["ige"] = "high"  # not a number
    rows[6]["nurse_note"] = "sample haemolysed"  # not mapped
    extra = dict.fromkeys(columns, "")
    extra.update(record_id="4", redcap_event_name="week_12_arm_1", ppnrs="3")  # unknown event
    rows.append(extra)
    with (HERE / "export.csv").open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
