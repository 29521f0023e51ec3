"""Layout in a real browser (Debian's Chromium, headless), at a 1280 px laptop screen and a
390 px phone: the navigation bar keeps the sign-out button on its one line, and the
entity filters show their selected text ("全部状态", "全部风险等级") whole.

Skipped without Chromium locally, required under CI=true (as tests/e2e).
"""

from __future__ import annotations

import os
import shutil

import pytest
from django.conf import settings
from django.test import Client

from tests.e2e.test_roles_browser import chromium

CHROMIUM = shutil.which("chromium")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

LAPTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

# The selected text of a select fits its box: the text's width against the box's
# inner width (without padding, where the arrow is drawn).
SELECT_TEXT_FITS = """sel => {
  const s = document.querySelector(sel);
  const cs = getComputedStyle(s);
  const ctx = document.createElement("canvas").getContext("2d");
  ctx.font = cs.font;
  const text = s.options[s.selectedIndex].text;
  const room = s.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
  return {text: text, fits: ctx.measureText(text).width <= room};
}"""


@pytest.fixture(autouse=True, scope="module")
def allow_async_unsafe():
    # Playwright's sync API runs an event loop in the test thread (see tests/e2e).
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="module")
def chromium_path():
    if CHROMIUM is None:
        reason = "Chromium is not installed (apt-get install chromium fonts-noto-cjk)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; it is required in CI.")
        pytest.skip(reason)
    return CHROMIUM


def open_page(browser, live_server, user, path, viewport, lang="zh-hans"):
    """A page as `user` sees it: the session cookie of a signed-in test client."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(locale="zh-CN", viewport=viewport)
    host = live_server.url.split("//", 1)[1].split(":")[0]
    context.add_cookies([
        {"name": settings.SESSION_COOKIE_NAME, "domain": host, "path": "/",
         "value": client.cookies[settings.SESSION_COOKIE_NAME].value},
        {"name": settings.LANGUAGE_COOKIE_NAME, "value": lang, "domain": host, "path": "/"},
    ])
    page = context.new_page()
    page.set_default_timeout(15_000)
    response = page.goto(f"{live_server.url}{path}")
    assert response.status == 200
    return page


def centre_y(page, selector) -> float:
    box = page.locator(selector).bounding_box()
    assert box is not None, f"{selector} is not shown"
    return box["y"] + box["height"] / 2


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_sign_out_stays_on_the_navigation_line_at_1280px(
        lang, admin_user, chromium_path, live_server):
    # The administrator has the most menu items (the workbench's and "Administration").
    admin_user.display_name = "平台管理员"
    admin_user.save()
    with chromium(chromium_path) as browser:
        page = open_page(browser, live_server, admin_user, "/work/", LAPTOP, lang)
        assert page.locator("#navbar-links").is_visible()
        assert page.locator(".navbar-toggler").is_hidden()
        # The language switch, the user and "Sign out" sit on the menu's first line (the
        # menu itself may wrap when it has many items).
        first_line = centre_y(page, "#nav-workbench")
        for selector in ("#language-switch", "#signed-in-as", "#logout-button"):
            assert abs(centre_y(page, selector) - first_line) < 6, selector
        box = page.locator("#logout-button").bounding_box()
        assert box["x"] + box["width"] <= LAPTOP["width"]
        assert page.evaluate("document.documentElement.scrollWidth") <= LAPTOP["width"]


def test_phone_gets_the_collapsed_menu_with_sign_out(admin_user, chromium_path, live_server):
    with chromium(chromium_path) as browser:
        page = open_page(browser, live_server, admin_user, "/work/", PHONE)
        assert page.locator("#navbar-links").is_hidden()
        page.locator(".navbar-toggler").click()
        page.locator("#logout-button").wait_for(state="visible")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["1280px", "390px"])
def test_entity_filters_show_their_selected_text_whole(viewport, xian_officer, chromium_path,
                                                       live_server):
    with chromium(chromium_path) as browser:
        page = open_page(browser, live_server, xian_officer, "/work/entities/", viewport)
        shown = {sel: page.evaluate(SELECT_TEXT_FITS, sel)
                 for sel in ("#id_division", "#id_category", "#id_status", "#id_risk_class")}
        assert shown == {
            "#id_division": {"text": "全部行政区划", "fits": True},
            "#id_category": {"text": "全部产品类别", "fits": True},
            "#id_status": {"text": "全部状态", "fits": True},
            "#id_risk_class": {"text": "全部风险等级", "fits": True},
        }
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
