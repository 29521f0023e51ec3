"""The recall pages (/work/recalls/) and the public notices (/recalls/): who sees which
page and which rows, the forms and their refusals, the CSV export, what the public sees
and does not see, and query-count pins on the lists."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import translation

from tests.recalls.conftest import (
    CONTR_P,
    DISTR_WH,
    LOT,
    MAKER_PLANT,
    METRO_DEPOT,
    S1,
    S2,
    batch,
    capture_chain,
)
from zhijian.accounts.models import User
from zhijian.core.models import AuditEntry
from zhijian.recalls import services
from zhijian.recalls.models import Recall, RecallItem, RecallNotice


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def vgrid(chain, xian_officer):
    w = chain
    opened = services.recall_propose(actor=xian_officer, source_kind="manual",
                                     maker_id=w["maker"].pk, category_code="electrical.cable",
                                     lot=LOT, reason="监督抽查发现该批次导体电阻不合格。")
    services.recall_open(actor=xian_officer, recall_id=opened.pk, severity="1")
    proposed = services.recall_propose(actor=xian_officer, source_kind="manual",
                                       maker_id=w["maker"].pk,
                                       category_code="electrical.cable", lot="C2026-02",
                                       reason="同一工艺批次存在相同隐患。")
    return w | {"open": Recall.objects.get(pk=opened.pk), "proposed": proposed}


def client_for(user) -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        c.force_login(user)
    return c


def state():
    return (list(Recall.objects.order_by("pk").values()),
            list(RecallItem.objects.order_by("pk").values()),
            list(RecallNotice.objects.order_by("pk").values()), AuditEntry.objects.count())


# --- the list ---------------------------------------------------------------------------------

def test_the_list_shows_each_regulator_their_recalls(vgrid, xian_officer, baoji_officer,
                                                     xian_housing_officer, province_officer):
    g = vgrid
    for who, expected in ((xian_officer, {g["open"], g["proposed"]}),
                          (province_officer, {g["open"], g["proposed"]}),
                          (baoji_officer, {g["open"]}),  # the distributor is in Baoji
                          (xian_housing_officer, set())):
        resp = client_for(who).get("/work/recalls/")
        assert resp.status_code == 200
        shown = {r for r in (g["open"], g["proposed"])
                 if f'id="recall-{r.pk}"' in resp.content.decode()}
        assert shown == expected, who
    filtered = client_for(xian_officer).get("/work/recalls/?status=proposed").content.decode()
    assert f'id="recall-{g["proposed"].pk}"' in filtered
    assert f'id="recall-{g["open"].pk}"' not in filtered
    by_lot = client_for(xian_officer).get("/work/recalls/?q=C2026-02").content.decode()
    assert f'id="recall-{g["proposed"].pk}"' in by_lot
    assert f'id="recall-{g["open"].pk}"' not in by_lot


def test_who_reaches_the_list(vgrid, enterprise_user, lab_user, user_unit_user):
    assert client_for(None).get("/work/recalls/").status_code == 302
    assert client_for(lab_user).get("/work/recalls/").status_code == 403
    for firm in (enterprise_user, user_unit_user):
        resp = client_for(firm).get("/work/recalls/")
        assert resp.status_code == 302 and resp["Location"] == "/work/recalls/notices/"


def test_the_list_query_count(vgrid, xian_officer, django_assert_max_num_queries):
    for n in range(5):
        services.recall_propose(actor=xian_officer, source_kind="manual",
                                maker_id=vgrid["maker"].pk, category_code="electrical.cable",
                                lot=f"C2026-3{n}", reason="同一工艺批次存在相同隐患。")
    c = client_for(User.objects.get(pk=xian_officer.pk))
    with django_assert_max_num_queries(12):
        resp = c.get("/work/recalls/")
    assert len(re.findall(r'id="recall-\d+"', resp.content.decode())) == 7


# --- one recall -------------------------------------------------------------------------------

def _items_shown(resp) -> set[int]:
    html = resp.content.decode()
    return {i.pk for i in RecallItem.objects.all() if f'id="item-{i.pk}"' in html}


def test_who_sees_a_recall_and_which_items(vgrid, xian_officer, baoji_officer, enterprise_user,
                                           user_unit_user, lab_user, xian_housing_officer):
    g = vgrid
    url = f"/work/recalls/{g['open'].number}/"
    items = {i.place: i.pk for i in g["open"].items.all()}
    everything = set(items.values())
    for who, expected in ((xian_officer, everything), (baoji_officer, everything),
                          (enterprise_user, everything),
                          (user_unit_user, {items[METRO_DEPOT], items[S1], items[S2]}),
                          (g["distributor_user"], {items[DISTR_WH]}),
                          (g["contractor_user"], {items[CONTR_P]})):
        resp = client_for(who).get(url)
        assert resp.status_code == 200, who
        assert _items_shown(resp) == expected, who
    for who in (lab_user, xian_housing_officer):
        assert client_for(who).get(url).status_code == 404
    assert client_for(None).get(url).status_code == 302
    # A proposal is the department's business: firms do not see it.
    assert client_for(enterprise_user).get(
        f"/work/recalls/{g['proposed'].number}/").status_code == 404
    assert client_for(xian_officer).get("/work/recalls/ZJ-RC-1999-0001/").status_code == 404


def test_the_page_offers_each_viewer_what_they_may_do(vgrid, xian_officer, baoji_officer,
                                                      user_unit_user, enterprise_user):
    g = vgrid
    xian = client_for(xian_officer).get(f"/work/recalls/{g['proposed'].number}/").content
    assert b'id="open-form"' in xian and b'id="dismiss-form"' in xian
    xian_open = client_for(xian_officer).get(f"/work/recalls/{g['open'].number}/").content
    assert b'id="refresh-form"' in xian_open and b'id="complete-form"' in xian_open
    assert b'id="rate-all-MTR"' in xian_open and b'id="tier-3"' in xian_open
    baoji = client_for(baoji_officer).get(f"/work/recalls/{g['open'].number}/").content
    assert b'id="decide"' not in baoji
    metro = client_for(user_unit_user).get(f"/work/recalls/{g['open'].number}/").content
    assert b'id="acknowledge-form"' in metro and b'id="decide"' not in metro
    maker = client_for(enterprise_user).get(f"/work/recalls/{g['open'].number}/").content
    # The maker sees who else was notified.
    assert len(re.findall(rb'id="notice-\d+"', maker)) == 4
    assert len(re.findall(rb'id="notice-\d+"', metro)) == 1


def test_opening_and_dismissing_through_the_pages(vgrid, xian_officer, user_unit_user,
                                                  baoji_officer):
    g = vgrid
    c = client_for(xian_officer)
    url = f"/work/recalls/{g['proposed'].number}/"
    before = state()
    bad = c.post(url + "open/", {"severity": "1", "reason": "短"})
    assert bad.status_code == 400
    assert b'id="id_reason_error"' in bad.content
    assert client_for(user_unit_user).post(url + "open/", {"severity": "1", "reason": "x" * 20}
                                           ).status_code == 403
    assert client_for(baoji_officer).post(url + "open/", {"severity": "1",
                                                          "reason": "x" * 20}
                                          ).status_code == 404
    assert client_for(baoji_officer).post(url + "dismiss/", {"reason": "x" * 20}
                                          ).status_code == 404
    assert state() == before
    done = c.post(url + "dismiss/", {"reason": "复检合格，原检测报告已撤销。"})
    assert done.status_code == 302 and done["Location"] == url
    assert Recall.objects.get(pk=g["proposed"].pk).status == "dismissed"
    # Open → complete with the note the open items require.
    url = f"/work/recalls/{g['open'].number}/"
    assert c.post(url + "complete/", {"note": ""}).status_code == 400
    assert c.post(url + "refresh/").status_code == 302
    assert c.post(url + "complete/", {"note": "生产者已停产，剩余产品由属地部门跟踪。"}
                  ).status_code == 302
    assert Recall.objects.get(pk=g["open"].pk).status == "completed"


def test_acknowledge_and_record_progress_through_the_pages(vgrid, user_unit_user,
                                                           enterprise_user):
    g = vgrid
    metro = client_for(user_unit_user)
    notices = metro.get("/work/recalls/notices/")
    notice = g["open"].notices.get(user_unit=g["metro"])
    assert f'id="notice-{notice.pk}"'.encode() in notices.content
    assert len(re.findall(rb'id="notice-\d+"', notices.content)) == 1
    resp = metro.post(f"/work/recalls/notices/{notice.pk}/acknowledge/")
    assert resp.status_code == 302
    assert RecallNotice.objects.get(pk=notice.pk).acknowledged_by == user_unit_user
    # The maker cannot acknowledge the metro's notice.
    before = state()
    client_for(enterprise_user).post(f"/work/recalls/notices/{notice.pk}/acknowledge/")
    assert state() == before

    s1 = g["open"].items.get(place=S1)
    page = metro.get(f"/work/recalls/items/{s1.pk}/")
    assert page.status_code == 200 and b'id="item-form"' in page.content
    bad = metro.post(f"/work/recalls/items/{s1.pk}/", {"status": "located", "located": "301"})
    assert bad.status_code == 400 and b'id="id_located_error"' in bad.content
    ok = metro.post(f"/work/recalls/items/{s1.pk}/", {"status": "removed", "located": "300",
                                                      "removed": "300", "note": "已拆除。"})
    assert ok.status_code == 302
    s1.refresh_from_db()
    assert (s1.status, s1.removed) == ("removed", Decimal("300"))
    # The maker sees the item but may not record progress on it.
    maker = client_for(enterprise_user)
    assert b'id="item-form"' not in maker.get(f"/work/recalls/items/{s1.pk}/").content
    before = state()
    assert maker.post(f"/work/recalls/items/{s1.pk}/", {"status": "replaced"}
                      ).status_code == 403
    assert state() == before
    # Another holder does not see it at all.
    assert client_for(g["distributor_user"]).get(
        f"/work/recalls/items/{s1.pk}/").status_code == 404


def test_the_impact_list_exports_as_csv(vgrid, enterprise_user, user_unit_user):
    g = vgrid
    url = f"/work/recalls/{g['open'].number}/impact.csv"
    resp = client_for(enterprise_user).get(url)
    assert resp.status_code == 200
    assert resp["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(resp.content.decode("utf-8-sig"))))
    assert [(r["tier"], r["place"], r["place_name"], r["holder"], r["kind"],
             r["quantity_listed"], r["uom"], r["status"]) for r in rows] == [
        ("0", MAKER_PLANT, "西安测试电缆厂", g["maker"].name, "held", "1000.000", "MTR", "listed"),
        ("1", DISTR_WH, "宝鸡经销仓库", g["distributor"].name, "received", "800.000", "MTR",
         "listed"),
        ("1", METRO_DEPOT, "地铁物资库", g["metro"].name, "received", "200.000", "MTR",
         "listed"),
        ("2", CONTR_P, "西安测试机电安装有限公司", g["contractor"].name, "shipped_to",
         "500.000", "MTR", "listed"),
        ("3", S1, "测试一号站", g["metro"].name, "installed", "300.000", "MTR", "listed"),
        ("3", S2, "测试二号站", g["metro"].name, "installed", "200.000", "MTR", "listed"),
    ]
    assert {r["identifier"] for r in rows} == {batch()}
    metro = client_for(user_unit_user).get(url)
    assert [r["place"] for r in csv.DictReader(io.StringIO(
        metro.content.decode("utf-8-sig")))] == [METRO_DEPOT, S1, S2]


def test_propose_by_hand(vgrid, xian_officer, enterprise_user):
    c = client_for(xian_officer)
    assert c.get("/work/recalls/new/").status_code == 200
    bad = c.post("/work/recalls/new/", {"maker": vgrid["maker"].uscc,
                                        "category": vgrid["cable"].pk, "lot": "C2026-55",
                                        "reason": "短"})
    assert bad.status_code == 200 and b'id="id_reason_error"' in bad.content
    ok = c.post("/work/recalls/new/", {"maker": vgrid["maker"].uscc,
                                       "category": vgrid["cable"].pk, "lot": "C2026-55",
                                       "reason": "市民举报该批次电缆发热。"})
    recall = Recall.objects.get(lot="C2026-55")
    assert ok.status_code == 302 and ok["Location"] == f"/work/recalls/{recall.number}/"
    assert client_for(enterprise_user).get("/work/recalls/new/").status_code == 403


# --- public notices ---------------------------------------------------------------------------

def test_the_public_sees_open_recalls_without_quantities_or_firms(vgrid):
    g = vgrid
    anon = client_for(None)
    listing = anon.get("/recalls/").content.decode()
    assert f'data-number="{g["open"].number}"' in listing
    assert g["proposed"].number not in listing
    page = anon.get(f"/recalls/{g['open'].number}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "测试一号站" in html and "测试二号站" in html  # public installation sites
    for private in (g["distributor"].name, g["contractor"].name, "宝鸡经销仓库", "地铁物资库",
                    "800", "500"):
        assert private not in html, private
    assert batch() in html and LOT in html
    assert 'id="notice-progress"' in html
    assert anon.get(f"/recalls/{g['proposed'].number}/").status_code == 404
    assert anon.get("/recalls/ZJ-RC-1999-0001/").status_code == 404


def test_the_public_list_query_count(vgrid, xian_officer, django_assert_max_num_queries):
    for n in range(4):
        lot = f"C2026-4{n}"
        capture_chain(vgrid, lot=lot, base=200 * (n + 1))
        r = services.recall_propose(actor=xian_officer, source_kind="manual",
                                    maker_id=vgrid["maker"].pk,
                                    category_code="electrical.cable", lot=lot,
                                    reason="同一工艺批次存在相同隐患。")
        services.recall_open(actor=xian_officer, recall_id=r.pk, severity="3")
    with django_assert_max_num_queries(4):
        resp = client_for(None).get("/recalls/")
    assert resp.content.decode().count("data-number=") == 5


def test_the_admin_shows_recalls_read_only(vgrid, admin_user):
    c = client_for(admin_user)
    for path in ("recall", "recallitem", "recallitemupdate", "recallnotice"):
        assert c.get(f"/admin/recalls/{path}/").status_code == 200, path
        assert c.get(f"/admin/recalls/{path}/add/").status_code == 403, path
    before = state()
    recall = vgrid["open"]
    assert c.post(f"/admin/recalls/recall/{recall.pk}/change/",
                  {"status": "completed"}).status_code == 403
    assert c.post(f"/admin/recalls/recall/{recall.pk}/delete/", {"post": "yes"}
                  ).status_code == 403
    assert state() == before
