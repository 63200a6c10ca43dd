"""In a real browser (Debian's Chromium via Playwright): log in, see the subjects, open a
subject; blinded users never see an arm. Screenshots of each page go to out/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.web.conftest import ARMS, PASSWORD
from tests.web.live import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, serving


@pytest.fixture(scope="module")
def base_url(app) -> Iterator[str]:
    with serving(app) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _login(browser: Browser, base_url: str, username: str) -> Page:
    context = browser.new_context(viewport={"width": 1024, "height": 768})  # a tablet
    page = context.new_page()
    page.goto(f"{base_url}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{base_url}/subjects")
    return page


def _shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_login_page_is_keyboard_usable(browser: Browser, base_url: str) -> None:
    page = browser.new_page()
    page.goto(f"{base_url}/login")
    _shot(page, "login")
    page.keyboard.type("monitor")  # the username field has focus on load
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{base_url}/subjects")
    page.context.close()


def test_investigator_sees_subjects_and_a_subject_page_without_an_arm(
    browser: Browser, base_url: str
) -> None:
    page = _login(browser, base_url, "investigator")
    expect(page.get_by_role("link", name="ATO-W-0001")).to_be_visible()
    _shot(page, "subjects")
    page.get_by_label("USUBJID contains").fill("0002")
    expect(page.get_by_role("link", name="ATO-W-0001")).to_have_count(0)  # htmx filtered live
    page.get_by_role("link", name="ATO-W-0002").click()
    expect(page.get_by_role("heading", name="ATO-W-0002")).to_be_visible()
    _shot(page, "subject")
    content = page.content()
    assert not [arm for arm in ARMS if arm in content]
    page.context.close()


def test_pharmacist_sees_the_arm(browser: Browser, base_url: str) -> None:
    page = _login(browser, base_url, "pharmacist")
    page.goto(f"{base_url}/subjects/ATO-W-0001")
    assert any(arm in page.content() for arm in ARMS)
    page.context.close()


@pytest.mark.parametrize(
    ("role", "path", "name"),
    [
        ("investigator", "/dashboard", "dashboard"),
        ("pharmacist", "/dashboard", "dashboard_unblinded"),
        ("monitor", "/audit", "audit"),
        ("pharmacist", "/subjects/ATO-W-0001/doses", "doses"),
        ("coordinator", "/subjects/ATO-W-0001/labs", "labs"),
        ("investigator", "/subjects/ATO-W-0001/adverse-events", "adverse_events"),
        ("investigator", "/subjects/ATO-W-0001/diagnosis", "diagnosis"),
    ],
)
def test_main_pages_render_in_the_browser(
    browser: Browser, base_url: str, role: str, path: str, name: str
) -> None:
    page = _login(browser, base_url, role)
    response = page.goto(f"{base_url}{path}")
    assert response is not None
    assert response.status == 200
    expect(page.locator("h1")).to_be_visible()
    _shot(page, name)
    if role != "pharmacist":
        assert not [arm for arm in ARMS if arm in page.content()]
    page.context.close()
