"""The public pages of supervisory sampling: the published results with their filters and
failing items, and one result with the link to its report's verification page; an
anonymous citizen reads them in Chinese and in English. Unpublished samples are absent."""

from __future__ import annotations

import re

import pytest

from tests.sampling.conftest import S1, S3
from tests.web.conftest import make_client
from zhijian.core import events
from zhijian.reports import services as report_services

pytestmark = pytest.mark.django_db

CARDS = re.compile(r'<li class="card mb-2" id="result-\d+" data-code="([^"]+)"')


def codes(resp) -> list[str]:
    assert resp.status_code == 200
    return CARDS.findall(resp.content.decode())


def text(html: str, element_id: str) -> str:
    match = re.search(rf'<(\w+)[^>]*id="{element_id}"[^>]*>(.*?)</\1>', html, re.S)
    assert match, f"no element #{element_id}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(2))).strip()


def test_the_results_list_and_its_filters(sgrid):
    citizen = make_client(None, "en")
    assert codes(citizen.get("/sampling-results/")) == [S3, S1]
    assert codes(citizen.get("/sampling-results/", {"q": "测试电缆"})) == [S3, S1]
    assert codes(citizen.get("/sampling-results/", {"q": sgrid["xian_entity"].uscc})) == [S3, S1]
    assert codes(citizen.get("/sampling-results/", {"q": "宝鸡"})) == []
    assert codes(citizen.get("/sampling-results/", {"result": "fail"})) == [S3]
    assert codes(citizen.get("/sampling-results/", {"category": "electrical"})) == [S3, S1]
    assert codes(citizen.get("/sampling-results/", {"category": "building"})) == []
    assert codes(citizen.get("/sampling-results/", {"division": "610100"})) == [S3, S1]
    assert codes(citizen.get("/sampling-results/", {"division": "610300"})) == []
    assert codes(citizen.get("/sampling-results/", {"result_from": "2026-11-11"})) == []
    resp = citizen.get("/sampling-results/", {"result_from": "2026-11-10",
                                              "result_to": "2026-11-09"})
    assert codes(resp) == []
    assert text(resp.content.decode(), "id_result_to_error") == (
        "The end of the range is before its start.")


def test_failing_items_are_listed(sgrid):
    html = make_client(None, "en").get("/sampling-results/").content.decode()
    card = html[html.index(f'data-code="{S3}"'):html.index(f'data-code="{S1}"')]
    assert "导体电阻: 2.41 Ω/km (required ≤1.83 Ω/km)" in re.sub(r"\s+", " ", card)
    assert 'href="/verify/BG-3/"' in card


def test_one_result_links_to_its_verification_page(sgrid):
    resp = make_client(None, "en").get(f"/sampling-results/{sgrid['s3'].pk}/")
    html = resp.content.decode()
    assert resp.status_code == 200
    assert text(html, "result") == "Nonconforming"
    assert 'id="verify-link"' in html and 'href="/verify/BG-3/"' in html
    assert text(html, "failing-items").startswith("Test item Requirement Measured value 导体电阻")
    chinese = make_client(None, "zh-hans").get(f"/sampling-results/{sgrid['s1'].pk}/")
    assert chinese.status_code == 200


@pytest.mark.parametrize("key", ["s2", "s4"])
def test_unpublished_samples_are_absent(key, sgrid):
    assert make_client(None, "en").get(f"/sampling-results/{sgrid[key].pk}/").status_code == 404
    assert make_client(None, "en").get("/sampling-results/999999/").status_code == 404


def test_a_revoked_report_shows_on_the_result(sgrid, lab_user):
    report_services.report_revoke(actor=lab_user, report_id=sgrid["reports"]["BG-1"].pk,
                                  reason="检测数据录入错误")
    events.drain()
    html = make_client(None, "en").get(f"/sampling-results/{sgrid['s1'].pk}/").content.decode()
    assert text(html, "report-revoked") == "Report revoked"
    assert text(html, "revoked-note").startswith("The test report behind this result was "
                                                 "revoked on ")
