"""Screenshots of the main pages on the demo trial, for docs/web.md (run by hand, not in CI).

.venv/bin/python scripts/docs_screenshots.py docs/web
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright
from tests.web.live import CHROMIUM, CHROMIUM_ARGS, serving

from atopic.demo import DEMO_PASSWORDS, build_demo
from atopic.web.app import create_app

PAGES = [
    ("investigator", "/subjects", "subjects"),
    ("investigator", "/subjects/ATO-MSC-201-0004", "subject"),
    ("investigator", "/subjects/ATO-MSC-201-0004/visits/5/entry", "visit_entry"),
    ("investigator", "/subjects/ATO-MSC-201-0004/diagnosis", "diagnosis"),
    ("investigator", "/dashboard", "dashboard_blinded"),
    ("pharmacist", "/dashboard", "dashboard_unblinded"),
    ("pharmacist", "/subjects/ATO-MSC-201-0004/doses", "doses"),
    ("monitor", "/audit", "audit"),
]


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'demo.db'}"
        build_demo(url)
        app = create_app(url, https_only=False)
        with serving(app) as base, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1024, "height": 768})
            page.goto(f"{base}/login")
            page.screenshot(path=str(out / "login.png"))
            for role, path, name in PAGES:
                context = browser.new_context(viewport={"width": 1024, "height": 768})
                tab = context.new_page()
                tab.goto(f"{base}/login")
                tab.get_by_label("Username").fill(role)
                tab.get_by_label("Password").fill(DEMO_PASSWORDS[role])
                tab.get_by_role("button", name="Log in").click()
                tab.wait_for_url(f"{base}/subjects")
                tab.goto(f"{base}{path}")
                tab.screenshot(path=str(out / f"{name}.png"), full_page=name != "audit")
                context.close()
            browser.close()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/web"))
