"""CSV upload of steps (csvcapture.py, docs/capture-without-gs1.md §4): a good file is one
capture of all its rows; any bad row stores nothing and is reported by row and column; UTF-8
with BOM and GB18030 files; a repeated upload stores nothing new; the template downloads and
uploads as it is."""

from __future__ import annotations

import html
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.traceability import test_capture_ui
from tests.traceability.test_capture_ui import BATCH, en, stored_count
from tests.web.conftest import _audit_key, compiled_messages  # noqa: F401
from zhijian.core.models import AuditEntry
from zhijian.traceability import csvcapture, services
from zhijian.traceability.models import Capture, Event, Place

pytestmark = pytest.mark.django_db
tworld = test_capture_ui.tworld  # the shared fixture

HEADER_ZH = "步骤,时间,商品条码,批号,数量,单位,发货方,收货方,地点,目的地点,投入批次,检验结果,增量原因,备注"
HEADER_EN = "step,time,gtin,lot,quantity,unit,from,to,location,to_location,inputs,result,reason,note"


def good_rows(w) -> list[str]:
    return [
        "生产,2026-07-20 08:00,6901234000016,L2026A,5000,米,,,雁塔生产基地,,,,,首批",
        "检验,2026-07-20 15:00,6901234000016,L2026A,5000,m,,,雁塔生产基地,,,合格,,出厂检验",
        "分切,2026-07-21 09:00,6901234000016,L2026A-01,1000,m,,,雁塔生产基地,,L2026A:1000,,,",
        f"发货,2026-07-22 08:30,6901234000016,L2026A-01,1000,m,,{w['user_unit'].uscc},,测试站,,,,",
    ]


def upload(user, text: str, encoding: str = "utf-8-sig", name: str = "steps.csv"):
    data = text.encode(encoding)
    return en(user).post("/work/traceability/upload/",
                         {"file": SimpleUploadedFile(name, data, content_type="text/csv")})


def problems(resp) -> list[tuple[str, str, str]]:
    text = resp.content.decode()
    return [tuple(html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in row)
            for row in re.findall(
                r'<td class="problem-row">(.*?)</td><td class="problem-column">(.*?)</td>'
                r'<td class="problem-message">(.*?)</td>', text, re.S)]


def test_a_good_file_is_one_capture_of_all_its_rows(tworld, enterprise_user):
    w = tworld
    resp = upload(enterprise_user, "\r\n".join([HEADER_ZH, *good_rows(w)]) + "\r\n")
    capture = Capture.objects.get()
    assert resp.status_code == 302
    assert resp["Location"] == f"/work/traceability/captures/{capture.pk}/"
    assert (capture.event_count, capture.stored_count, capture.kind) == (4, 4, "document")
    produce, inspect, cut, ship = Event.objects.order_by("id")
    assert [e.biz_step.rsplit("-", 1)[1] for e in (produce, inspect, cut, ship)] == [
        "commissioning", "inspecting", "creating_class_instance", "shipping"]
    assert produce.event["zhijian:note"] == "首批"
    assert produce.biz_location == w["plant"].identifier
    assert inspect.disposition.endswith("Disp-conformant")
    assert sorted(cut.epcs.values_list("role", "epc", "quantity", "uom")) == [
        ("class_input", BATCH.format("L2026A"), 1000.0, "MTR"),
        ("class_output", BATCH.format("L2026A-01"), 1000.0, "MTR")]
    assert sorted(ship.sources_dests.values_list("kind", "identifier")) == [
        ("destination", f"urn:zhijian:party:{w['user_unit'].uscc}"),
        ("destination", f"urn:zhijian:party:{w['user_unit'].uscc}"),
        ("destination", w["station"].identifier),
        ("source", f"urn:zhijian:party:{w['xian_entity'].uscc}"),
        ("source", f"urn:zhijian:party:{w['xian_entity'].uscc}")]
    assert ship.event_time.isoformat() == "2026-07-22T00:30:00+00:00"
    # The same file again: every event a duplicate, nothing new.
    resp = upload(enterprise_user, "\r\n".join([HEADER_ZH, *good_rows(w)]) + "\r\n")
    again = Capture.objects.latest("id")
    assert (again.stored_count, again.duplicate_count, Event.objects.count()) == (0, 4, 4)


def test_gb18030_with_english_headers(tworld, enterprise_user):
    text = "\r\n".join([HEADER_EN, *good_rows(tworld)[:2]])
    assert upload(enterprise_user, text, encoding="gb18030").status_code == 302
    assert Event.objects.count() == 2
    assert Event.objects.order_by("id").first().event["zhijian:note"] == "首批"


def test_a_bad_row_stores_nothing_and_names_row_and_column(tworld, enterprise_user):
    w = tworld
    rows = good_rows(w)
    rows[1] = rows[1].replace("5000,m", "5000,卷")
    rows[2] = rows[2].replace("L2026A:1000", "L2026A:800")
    rows.append("发货,2026-07-23,6901234000016,L2026A-01,1,m,,某某公司,,,,,,")
    rows.append("安装,2026-07-24 10:00,6901234000016,L2026A-01,1,m,,,雁塔生产基地,,,,,")
    rows.append("运输,2026-07-24 10:00,6901234000016,L2026A-01,1,m,,,,,,,,")
    before, audit = stored_count(), AuditEntry.objects.count()
    resp = upload(enterprise_user, "\n".join([HEADER_ZH, *rows]))
    assert resp.status_code == 400
    assert problems(resp) == [
        ("3", "单位", "卷 is not a unit the platform knows. Use m, km, kg, t, piece, set, m2, "
                    "m3 or L, or a UN/CEFACT code such as MTR."),
        ("4", "数量", "The outputs total 1000 MTR, more than the inputs (800 MTR). Correct the "
                    "quantities, or give the reason the output is larger."),
        ("6", "收货方", "某某公司 is no party the platform knows: give its unified social credit "
                     "code, its GLN, or a party from the directory (Places)."),
        ("7", "地点", "雁塔生产基地 is not an installation site (a metro station or a building). "
                    "Choose one, or change what the place is under Places."),
        ("8", "步骤", "运输 is not a step: write one of produce, inspect, ship, receive, "
                    "transform, install, recall, destroy."),
    ]
    assert stored_count() == before and AuditEntry.objects.count() == audit


def test_a_problem_the_store_finds_is_reported_at_its_row_and_column(tworld, enterprise_user):
    Place.objects.create(identifier="https://id.gs1.org/414/6901234000008", kind="warehouse",
                         name="旧仓库", org=f"enterprise:{tworld['xian_entity'].pk}")
    rows = good_rows(tworld)[:2] + [
        "召回,2026-07-25 10:00,6901234000016,L2026A,5000,m,,,旧仓库,,,,,"]
    resp = upload(enterprise_user, "\n".join([HEADER_ZH, *rows]))
    assert problems(resp) == [("4", "地点", (
        "id is https://id.gs1.org/414/6901234000008: the check digit of the GLN 6901234000008 "
        "is 8 but should be 9. Check the number."))]
    assert stored_count() == (0, 0, 0)
    assert services.events_verify().ok


def test_file_level_problems(tworld, enterprise_user, settings):
    resp = upload(enterprise_user, "步骤,时间\n生产,2026-07-20 08:00\n")
    assert problems(resp) == [("1", "—", "The header row lacks the columns gtin, lot, "
                                         "quantity, unit. Start from the template.")]
    resp = upload(enterprise_user, HEADER_ZH + "\n")
    assert problems(resp) == [("—", "—", "The file has no steps: add one row per step under "
                                         "the header.")]
    resp = en(enterprise_user).post("/work/traceability/upload/", {
        "file": SimpleUploadedFile("x.csv", b"\xff\xfe\x00\x00\x81", content_type="text/csv")})
    assert problems(resp)[0][2].startswith("The file is neither UTF-8 nor GB18030 text.")
    many = [f"检验,2026-07-20 15:00,6901234000016,L{n},1,m,,,,,,,," for n in range(1001)]
    resp = upload(enterprise_user, "\n".join([HEADER_ZH, *many]))
    assert problems(resp) == [("1002", "—", "The file has more than 1000 rows. Split it into "
                                            "several files.")]
    assert stored_count() == (0, 0, 0)


def test_the_template_uploads_as_it_is(tworld, enterprise_user):
    resp = en(enterprise_user).get("/work/traceability/upload/template.csv")
    assert resp["Content-Type"] == "text/csv; charset=utf-8"
    data = resp.content
    assert data.startswith("\ufeff".encode())
    assert data.decode("utf-8-sig").splitlines()[0] == HEADER_EN
    zh = tworld and en(enterprise_user)
    zh.cookies["django_language"] = "zh-hans"
    assert zh.get("/work/traceability/upload/template.csv").content.decode(
        "utf-8-sig").splitlines()[0] == HEADER_ZH
    assert upload(enterprise_user, data.decode("utf-8-sig")).status_code == 302
    assert [e.biz_step.rsplit("-", 1)[1] for e in Event.objects.order_by("id")] == [
        "commissioning", "inspecting", "creating_class_instance", "shipping"]


def test_who_may_upload(tworld, province_officer, lab_user):
    for user in (province_officer, lab_user):
        resp = upload(user, "\n".join([HEADER_ZH, *good_rows(tworld)]))
        assert resp.status_code == 403
    assert upload(None, HEADER_ZH).status_code == 302
    assert stored_count() == (0, 0, 0)


def test_parse_time_forms():
    assert [csvcapture.parse_time(t).isoformat() for t in (
        "2026-07-22 08:30", "2026/07/22 08:30:15", "2026-07-22T08:30:00+00:00")] == [
        "2026-07-22T08:30:00+08:00", "2026-07-22T08:30:15+08:00", "2026-07-22T08:30:00+00:00"]
