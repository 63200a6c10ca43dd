"""Figures and tables of docs/trial.md: a synthetic dose-ranging trial (300 subjects, seed 7)
through ``atopic analyze``, and screenshots of parts of its report (run by hand, not in CI).

PYTHONPATH=. .venv/bin/python scripts/docs_trial.py docs/trial
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright
from tests.web.live import CHROMIUM, CHROMIUM_ARGS

from atopic.simulate import write_synth
from atopic.tables.collected import COLLECTED
from atopic.tables.files import read_tables
from atopic.trial.design import load_design
from atopic.trial.workflow import run

DESIGN = Path("examples/trial/dose_ranging.toml")
SHOTS = [
    ("#responders table", 0, "responders"),
    ("#responders figure", 0, "responder_rates"),
    ("#continuous figure", 0, "mean_pchg_easi"),
    ("#cont-mmrm", 0, "mmrm"),
    ("#dose-response table", 0, "mcpmod_table"),
    ("#dose-response figure", 0, "dose_response"),
    ("#subgroups figure", 3, "forest"),
    ("#biomarkers table", 0, "biomarkers"),
    ("#ae-overview", 0, "safety"),
    ("#subjects figure", 0, "waterfall"),
    ("#subjects figure", 1, "spaghetti"),
]


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    design = load_design(DESIGN)
    with tempfile.TemporaryDirectory() as tmp:
        tables_dir = Path(tmp) / "tables"
        write_synth(design, 300, tables_dir, seed=7)
        report = Path(tmp) / "analysis"
        run(read_tables(tables_dir, COLLECTED), design, report)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.goto((report / "report.html").as_uri())
            for selector, index, name in SHOTS:
                page.locator(selector).nth(index).screenshot(path=str(out / f"{name}.png"))
                print(out / f"{name}.png")
            browser.close()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/trial"))
