"""A laboratory's accredited scope in the workbench: the lab's history (变更记录) shows its
scope lines, the regulator of its division ends a line with a date and a reason, and a
duplicate line is refused next to its field."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests import factories as f
from zhijian.core import audit
from zhijian.core.models import AuditEntry
from zhijian.registry import services
from zhijian.registry.models import AccreditationScope


@pytest.fixture
def line(world):
    standard = f.StandardFactory(code="GB/T 3956-2008", title="电缆的导体")
    return f.ScopeFactory(lab=world["lab"], standard=standard, parameter="导体电阻",
                          valid_from=dt.date(2020, 1, 1))


def history_section(html: str) -> str:
    return html[html.index('id="history"'):]


def timeline(html: str) -> list[tuple[str, str]]:
    """(action label, reason) of each history row, newest first."""
    rows = re.findall(r'<span class="badge text-bg-secondary">(.*?)</span>(.*?)</li>',
                      history_section(html), re.S)
    out = []
    for label, body in rows:
        reason = re.search(r"<strong>.*?</strong> (.*?)</div>", body, re.S)
        out.append((label, reason.group(1).strip() if reason else ""))
    return out


def test_added_and_ended_lines_appear_in_the_lab_history(as_user, world, line, xian_officer):
    client = as_user(xian_officer, "zh-hans")
    lab = world["lab"]
    added = client.post(f"/work/labs/{lab.pk}/scopes/add/", {
        "standard": "GB/T 3956-2008", "parameter": "绝缘厚度", "valid_from": "2024-01-01",
        "valid_to": ""})
    assert added.status_code == 302
    ended = client.post(f"/work/labs/{lab.pk}/scopes/{line.pk}/end/",
                        {"valid_to": "2025-06-30", "reason": "扩项复评审未通过"})
    assert ended.status_code == 302
    assert ended["Location"] == f"/work/labs/{lab.pk}/"
    html = client.get(f"/work/labs/{lab.pk}/").content.decode()
    assert timeline(html) == [("终止能力范围条目", "扩项复评审未通过"), ("新增能力范围条目", "")]
    history = history_section(html)
    # The changed date of the ended line, and the added line's standard by its number.
    assert '<td class="zj-before"><span class="text-body-secondary">—</span></td>' \
           '<td class="zj-after">2025-06-30</td>' in history
    assert '<td class="zj-after">GB/T 3956-2008</td>' in history
    assert '<td class="zj-after">绝缘厚度</td>' in history


def test_ending_a_line_is_audited_with_its_reason(as_user, world, line, xian_officer):
    client = as_user(xian_officer)
    url = f"/work/labs/{world['lab'].pk}/scopes/{line.pk}/end/"
    form = client.get(url)
    assert form.status_code == 200
    assert 'name="valid_to"' in form.content.decode() and 'name="reason"' in form.content.decode()
    assert client.post(url, {"valid_to": "2025-06-30", "reason": "缩项"}).status_code == 302
    line.refresh_from_db()
    assert line.valid_to == dt.date(2025, 6, 30)
    entry = audit.history("registry.accreditationscope", line.pk)[-1]
    assert (entry["action"], entry["actor"], entry["reason"]) == (
        "lab.scope_ended", "xian", "缩项")


def test_ending_a_line_needs_a_reason(as_user, world, line, xian_officer):
    before = AuditEntry.objects.count()
    response = as_user(xian_officer, "zh-hans").post(
        f"/work/labs/{world['lab'].pk}/scopes/{line.pk}/end/",
        {"valid_to": "2025-06-30", "reason": ""})
    assert response.status_code == 200
    html = response.content.decode()
    assert re.sub(r"<[^>]+>", "", re.search(r'id="id_reason_error">(.*?)</div>\s*</div>', html,
                                             re.S).group(1)).strip() == "这个字段是必填项。"
    line.refresh_from_db()
    assert line.valid_to is None
    assert AuditEntry.objects.count() == before


def test_only_the_division_regulator_sees_and_uses_the_end_action(as_user, world, line,
                                                                  xian_officer, baoji_officer):
    url = f"/work/labs/{world['lab'].pk}/"
    xian = as_user(xian_officer).get(url).content.decode()
    baoji = as_user(baoji_officer).get(url).content.decode()
    assert f'id="action-scope-end-{line.pk}"' in xian
    assert f'href="/work/labs/{world["lab"].pk}/scopes/{line.pk}/end/"' in xian
    assert "action-scope-end" not in baoji
    refused = as_user(baoji_officer).post(f"{url}scopes/{line.pk}/end/",
                                          {"valid_to": "2025-06-30", "reason": "缩项"})
    assert refused.status_code == 403
    line.refresh_from_db()
    assert line.valid_to is None


def test_a_line_that_has_ended_offers_no_end_action(as_user, world, line, xian_officer):
    line.valid_to = dt.date(2021, 12, 31)
    line.save()
    html = as_user(xian_officer).get(f"/work/labs/{world['lab'].pk}/").content.decode()
    assert "action-scope-end" not in html


def test_a_duplicate_line_is_refused_next_to_the_standard(as_user, world, line, xian_officer):
    before = AuditEntry.objects.count()
    response = as_user(xian_officer, "en").post(f"/work/labs/{world['lab'].pk}/scopes/add/", {
        "standard": "GB/T 3956-2008", "parameter": "导体电阻", "valid_from": "2024-01-01",
        "valid_to": ""})
    assert response.status_code == 200
    error = re.search(r'id="id_standard_error">(.*?)</div>\s*</div>',
                      response.content.decode(), re.S).group(1)
    assert re.sub(r"<[^>]+>", "", error).strip() == (
        "The laboratory already has the line GB/T 3956-2008 导体电阻 (2020-01-01 – open-ended), "
        "which overlaps these dates. End that line first, or choose dates after it.")
    assert AccreditationScope.objects.filter(lab=world["lab"]).count() == 1
    assert AuditEntry.objects.count() == before


def test_the_public_lab_page_shows_no_end_action(as_user, world, line):
    html = as_user(None).get(f"/labs/{world['lab'].pk}/").content.decode()
    assert "action-scope-end" not in html


def test_service_refuses_a_line_of_a_lab_outside_the_jurisdiction(world, line, baoji_officer):
    from zhijian.core.access import Denied

    with pytest.raises(Denied):
        services.lab_scope_end(actor=baoji_officer, scope_id=line.pk,
                               valid_to=dt.date(2025, 6, 30), reason="缩项")
