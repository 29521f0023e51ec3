"""Quality credit in a real browser (Debian's Chromium, headless): a Xi'an officer opens a
firm's credit file (class, the penalty that counted), reproduces the rating as of today
with the page's own form, and the public credit report shows the penalty decision but
not the class. No console error, page error or failed request is allowed.

Chromium comes from the Debian package `chromium`; without it the tests skip locally and
fail under CI=true (tests/e2e/test_roles_browser.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests.e2e.test_roles_browser import PASSWORD, Problems, chromium, path_of

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

NUMBER = "西市监罚〔2026〕9001号"


@pytest.fixture
def audit_flushable(transactional_db):
    """The services write audit entries, which SQLite's append-only triggers keep from
    being deleted; a transactional test is emptied by deleting every row afterwards. The
    triggers are (re)created for the test and dropped for the flush that follows it
    (PostgreSQL's test database allows the flush, tests/conftest.py)."""
    import importlib

    from django.db import connection

    triggers = importlib.import_module("zhijian.core.migrations.0003_audit_append_only")
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        for sql in triggers.SQLITE:
            cursor.execute(sql)
    yield
    with connection.cursor() as cursor:
        for sql in triggers.SQLITE_DROP:
            cursor.execute(sql)


@pytest.fixture
def penalised(audit_flushable, world, xian_officer):
    """A Xi'an firm with a heavier penalty decision: class C at most (hard rule)."""
    from zhijian.core import events
    from zhijian.credit.models import CreditRating
    from zhijian.credit.services import records

    entity = world["xian_entity"]
    records.penalty_record(
        actor=xian_officer, entity_id=entity.pk, decision_number=NUMBER,
        decided_on=timezone.localdate() - dt.timedelta(days=30),
        violation="伪造产品质量检验合格证明", legal_basis="《中华人民共和国产品质量法》第五十三条",
        heavy=True, document=SimpleUploadedFile("d.pdf", b"%PDF-1.4 test", "application/pdf"))
    while events.drain():
        pass
    rating = CreditRating.objects.get(entity=entity)
    return entity, rating


def test_an_officer_reads_the_credit_file_and_reproduces_the_rating(
        chromium_path, live_server, xian_officer, penalised):
    entity, rating = penalised
    today = timezone.localdate().isoformat()
    with chromium(chromium_path) as browser:
        page = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}
                                   ).new_page()
        page.set_default_timeout(15_000)
        problems = Problems(page)
        page.goto(f"{live_server.url}/accounts/login/")
        login = page.locator("form", has=page.locator("input[name=password]"))
        login.locator("input[name=username]").fill(xian_officer.username)
        login.locator("input[name=password]").fill(PASSWORD)
        with page.expect_navigation():
            login.locator("[type=submit]").click()

        page.goto(f"{live_server.url}/work/credit/entities/{entity.uscc}/")
        assert page.locator("[data-testid=page-title]").inner_text().strip() == entity.name
        assert page.locator("#current-class").get_attribute("data-class") == rating.risk_class
        assert NUMBER in page.locator("#contributions").inner_text()

        form = page.locator("#as-of-form")
        form.locator("input[type=date]").fill(today)
        with page.expect_navigation():
            form.locator("[type=submit]").click()
        assert path_of(page.url) == f"/work/credit/entities/{entity.uscc}/"
        assert page.locator("#as-of-match").get_attribute("data-match") == "yes"
        assert NUMBER in page.locator("#as-of-contributions").inner_text()
        assert problems.items == []


def test_the_public_report_shows_the_penalty_not_the_class(
        chromium_path, live_server, penalised):
    entity, rating = penalised
    with chromium(chromium_path) as browser:
        page = browser.new_context(locale="zh-CN").new_page()
        page.set_default_timeout(15_000)
        problems = Problems(page)
        response = page.goto(f"{live_server.url}/credit/{entity.uscc}/")
        assert response.status == 200
        records = page.locator("#records").inner_text()
        assert NUMBER in records
        assert page.locator("#current-class").count() == 0
        assert problems.items == []
