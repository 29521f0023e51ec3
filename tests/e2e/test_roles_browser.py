"""Every role signs in through the login form in a real browser (Debian's Chromium, headless)
and opens its main page in Simplified Chinese and in English, switching language with the
page's own language form. No console error, page error or failed request is allowed
(a missing static file fails the test). Screenshots go to ZHIJIAN_SCREENSHOT_DIR, or to a
temporary directory.

Chromium comes from the Debian package `chromium` (never `playwright install`). Without
it the tests skip locally and fail under CI=true.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytestmark = [
    pytest.mark.browser,
    # live_server flushes the tables after each test; serialized_rollback restores the
    # divisions that a data migration loaded.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
PASSWORD = "correct-horse-battery"  # tests/factories.py UserFactory

# The main page of each kind of account. Regulators and administrators land on the
# workbench, titled "Regulator workbench"; enterprise, lab and user-unit accounts on their
# organisation's workspace, titled with the organisation's name and reached through the
# "My organisation" menu item. Expected texts come from the translation catalogue.
WORKBENCH = "/work/"
ORGANISATION = "/work/org/"
ROLES = [
    ("admin_user", WORKBENCH),
    ("province_officer", WORKBENCH),
    ("xian_officer", WORKBENCH),
    ("baoji_officer", WORKBENCH),
    ("enterprise_user", ORGANISATION),
    ("lab_user", ORGANISATION),
    ("user_unit_user", ORGANISATION),
]
HTML_LANG = {"zh-hans": "zh-Hans", "en": "en"}


def translated(text: str, lang: str) -> str:
    from django.utils import translation

    with translation.override(lang):
        return str(translation.gettext(text))


def expected_page(user, main_page: str, lang: str) -> dict[str, str]:
    """Texts the main page must show in `lang`: selector -> exact text."""
    if main_page == WORKBENCH:
        return {"[data-testid=page-title]": translated("Regulator workbench", lang)}
    return {
        "[data-testid=page-title]": user.organisation.name,
        "#nav-org": translated("My organisation", lang),
    }


def test_the_catalogue_translates_the_main_pages():
    for text in ("Regulator workbench", "My organisation", "Sign in"):
        assert translated(text, "zh-hans") != translated(text, "en"), text


@contextmanager
def chromium(path: str):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def screenshot_dir(tmp_path_factory):
    configured = os.environ.get("ZHIJIAN_SCREENSHOT_DIR")
    if configured:
        path = Path(configured)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("screenshots")


class Problems:
    """Console errors, uncaught page errors and failed or error responses of one page."""

    def __init__(self, page):
        self.items: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.items.append(f"page error: {exc}"))
        page.on("requestfailed", lambda req: self.items.append(
            f"request failed: {req.method} {req.url} ({req.failure})"))
        page.on("response", self._response)

    def _console(self, msg):
        if msg.type == "error":
            self.items.append(f"console error: {msg.text} at {msg.location.get('url', '')}")

    def _response(self, response):
        if response.status >= 400:
            self.items.append(f"HTTP {response.status}: {response.request.method} {response.url}")


def path_of(url: str) -> str:
    return urlsplit(url).path


def texts(page, selectors) -> dict[str, str]:
    return {sel: page.locator(sel).first.inner_text().strip() for sel in selectors}


def switch_language(page, code: str) -> None:
    """Use the page's language form (a POST to /i18n/setlang/), as a user would."""
    form = page.locator("form[action$='/i18n/setlang/']").first
    button = form.locator(f"button[name=language][value='{code}']")
    with page.expect_navigation():
        if button.count():
            button.click()
        else:
            form.locator("select[name=language]").select_option(code)
            submit = form.locator("[type=submit]")
            if submit.count():
                submit.first.click()
            # else: the select submits the form on change
    assert page.locator("html").get_attribute("lang") == HTML_LANG[code]


@pytest.mark.parametrize(("persona", "main_page"), ROLES)
def test_role_signs_in_and_opens_main_page_in_both_languages(
    request, persona, main_page, chromium_path, live_server, screenshot_dir
):
    user = request.getfixturevalue(persona)
    zh = expected_page(user, main_page, "zh-hans")
    en = expected_page(user, main_page, "en")
    sign_in = {"[data-testid=page-title]": translated("Sign in", "zh-hans")}

    with chromium(chromium_path) as browser:
        context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(15_000)
        problems = Problems(page)

        page.goto(f"{live_server.url}/accounts/login/")
        assert page.locator("html").get_attribute("lang") == HTML_LANG["zh-hans"]
        assert texts(page, sign_in) == sign_in
        login = page.locator("form", has=page.locator("input[name=password]"))
        login.locator("input[name=username]").fill(user.username)
        login.locator("input[name=password]").fill(PASSWORD)
        with page.expect_navigation():
            login.locator("[type=submit]").click()
        assert path_of(page.url) != "/accounts/login/", "login was refused"

        response = page.goto(f"{live_server.url}{main_page}")
        assert response.status == 200
        assert path_of(page.url) == main_page
        assert page.locator("html").get_attribute("lang") == HTML_LANG["zh-hans"]
        assert texts(page, zh) == zh
        page.screenshot(path=screenshot_dir / f"{persona}-zh-hans.png", full_page=True)

        switch_language(page, "en")
        assert path_of(page.url) == main_page
        assert texts(page, en) == en
        page.screenshot(path=screenshot_dir / f"{persona}-en.png", full_page=True)

        switch_language(page, "zh-hans")
        assert path_of(page.url) == main_page
        assert texts(page, zh) == zh
        assert problems.items == []


def test_anonymous_visitor_is_sent_to_login(chromium_path, live_server):
    with chromium(chromium_path) as browser:
        page = browser.new_context(locale="zh-CN").new_page()
        page.goto(f"{live_server.url}{WORKBENCH}")
        assert path_of(page.url) == "/accounts/login/"
