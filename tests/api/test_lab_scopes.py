"""A laboratory's accredited scope over the API: scope lines appear in the lab's history,
a line is ended with a date and a reason, and a duplicate line is refused."""

from __future__ import annotations

import datetime as dt

import pytest

from tests import factories as f
from tests.api.conftest import fingerprint
from zhijian.registry.models import AccreditationScope


@pytest.fixture
def line(grid):
    """The grid's line: GB/T 3956-2008 导体电阻 of the Xi'an lab, from 2020-01-01."""
    return AccreditationScope.objects.get(lab=grid["lab"], parameter="导体电阻")


def end_url(lab, line) -> str:
    return f"/api/v1/labs/{lab.pk}/scopes/{line.pk}/end/"


def test_scope_lines_are_in_the_lab_history(grid, line, xian_officer, api):
    api.force_authenticate(xian_officer)
    lab = grid["lab"]
    assert api.patch(f"/api/v1/labs/{lab.pk}/", {"address": "检测路2号", "reason": "搬迁"},
                     format="json").status_code == 200
    added = api.post(f"/api/v1/labs/{lab.pk}/scopes/", {
        "standard": "GB/T 3956-2008", "parameter": "绝缘厚度", "valid_from": "2024-01-01"},
        format="json")
    assert added.status_code == 201
    ended = api.post(end_url(lab, line), {"valid_to": "2025-06-30", "reason": "扩项复评审未通过"},
                     format="json")
    assert ended.status_code == 200, ended.content
    assert ended.json() == {"id": line.pk, "standard": "GB/T 3956-2008", "parameter": "导体电阻",
                            "valid_from": "2020-01-01", "valid_to": "2025-06-30"}

    rows = api.get(f"/api/v1/labs/{lab.pk}/history/").json()
    assert [(r["action"], r["object_type"], r["object_id"], r["reason"]) for r in rows] == [
        ("lab.updated", "registry.lab", str(lab.pk), "搬迁"),
        ("lab.scope_added", "registry.accreditationscope", str(added.json()["id"]), ""),
        ("lab.scope_ended", "registry.accreditationscope", str(line.pk), "扩项复评审未通过"),
    ]
    assert (rows[2]["before"]["valid_to"], rows[2]["after"]["valid_to"]) == (None, "2025-06-30")


def test_the_lab_itself_sees_its_scope_lines_in_its_history(grid, line, xian_officer,
                                                            lab_user, api):
    api.force_authenticate(xian_officer)
    api.post(end_url(grid["lab"], line), {"valid_to": "2025-06-30", "reason": "缩项"},
             format="json")
    api.force_authenticate(lab_user)
    rows = api.get(f"/api/v1/labs/{grid['lab'].pk}/history/").json()
    assert [(r["action"], r["reason"]) for r in rows] == [("lab.scope_ended", "缩项")]


def test_another_lab_history_has_none_of_these_lines(grid, line, xian_officer, api):
    api.force_authenticate(xian_officer)
    api.post(end_url(grid["lab"], line), {"valid_to": "2025-06-30", "reason": "缩项"},
             format="json")
    assert api.get(f"/api/v1/labs/{grid['baoji_lab'].pk}/history/").json() == []


@pytest.mark.parametrize(("body", "attr", "detail"), [
    ({"valid_to": "2025-06-30", "reason": ""}, "reason",
     "Give the reason for ending this scope line."),
    ({"valid_to": "2019-12-31", "reason": "缩项"}, "valid_to",
     "The end date cannot be before the start date."),
    ({"reason": "缩项"}, "valid_to", "This field is required."),
])
def test_ending_a_line_needs_a_date_from_its_start_and_a_reason(body, attr, detail, grid, line,
                                                                 xian_officer, api):
    api.force_authenticate(xian_officer)
    before = fingerprint()
    response = api.post(end_url(grid["lab"], line), body, format="json",
                        HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert [(e["attr"], e["detail"]) for e in response.json()["errors"]] == [(attr, detail)]
    assert fingerprint() == before


def test_an_ended_line_is_not_extended(grid, line, xian_officer, api):
    line.valid_to = dt.date(2025, 6, 30)
    line.save()
    api.force_authenticate(xian_officer)
    before = fingerprint()
    response = api.post(end_url(grid["lab"], line), {"valid_to": "2026-06-30", "reason": "延期"},
                        format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.json()["errors"] == [{
        "code": "invalid", "attr": "valid_to",
        "detail": "The line already ends on 2025-06-30; it can be ended earlier, not extended. "
                  "Add a new line to extend it."}]
    assert fingerprint() == before


def test_a_line_of_another_lab_is_not_found_under_this_one(grid, line, xian_officer, api):
    api.force_authenticate(xian_officer)
    before = fingerprint()
    response = api.post(end_url(grid["baoji_lab"], line),
                        {"valid_to": "2025-06-30", "reason": "缩项"}, format="json")
    assert response.status_code == 404
    assert fingerprint() == before


@pytest.mark.parametrize(("valid_from", "valid_to"), [
    ("2024-01-01", None),  # inside the open-ended line
    ("2018-01-01", "2020-01-01"),  # ends on the day the line starts
])
def test_an_overlapping_duplicate_line_is_refused(valid_from, valid_to, grid, line,
                                                  xian_officer, api):
    api.force_authenticate(xian_officer)
    before = fingerprint()
    response = api.post(f"/api/v1/labs/{grid['lab'].pk}/scopes/", {
        "standard": "GB/T 3956-2008", "parameter": "导体电阻", "valid_from": valid_from,
        "valid_to": valid_to}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.json()["errors"] == [{
        "code": "invalid", "attr": "standard",
        "detail": "The laboratory already has the line GB/T 3956-2008 导体电阻 (2020-01-01 – "
                  "open-ended), which overlaps these dates. End that line first, or choose "
                  "dates after it."}]
    assert fingerprint() == before


def test_the_same_line_after_the_end_or_in_another_lab_is_accepted(grid, line, xian_officer,
                                                                   api):
    api.force_authenticate(xian_officer)
    body = {"standard": "GB/T 3956-2008", "parameter": "导体电阻"}
    assert api.post(end_url(grid["lab"], line), {"valid_to": "2023-12-31", "reason": "换证"},
                    format="json").status_code == 200
    renewed = api.post(f"/api/v1/labs/{grid['lab'].pk}/scopes/",
                       body | {"valid_from": "2024-01-01"}, format="json")
    assert renewed.status_code == 201, renewed.content
    other_lab = f.LabFactory(division=f.division("610104"), name="西安另一检测中心")
    elsewhere = api.post(f"/api/v1/labs/{other_lab.pk}/scopes/",
                         body | {"valid_from": "2024-01-01"}, format="json")
    assert elsewhere.status_code == 201, elsewhere.content
    assert list(AccreditationScope.objects.filter(parameter="导体电阻")
                .order_by("lab_id", "valid_from")
                .values_list("lab__name", "valid_from", "valid_to")) == [
        ("西安测试检测中心", dt.date(2020, 1, 1), dt.date(2023, 12, 31)),
        ("西安测试检测中心", dt.date(2024, 1, 1), None),
        ("西安另一检测中心", dt.date(2024, 1, 1), None),
    ]
