"""The purchasing pages: who may open what, the whole flow through the forms (list,
supplier, delivery, witness inspection, acceptance check, referral, acknowledgement;
appeal and decision), refusals shown next to their field, and every acceptance check shown
as stored."""

from __future__ import annotations

import datetime as dt
import html
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from tests import factories as f
from tests.factories import StandardFactory
from tests.procurement.conftest import cable_report
from tests.procurement.test_services import revoke
from tests.reports.helpers import issue_report
from tests.web.conftest import _audit_key, compiled_messages, make_client  # noqa: F401
from zhijian.procurement import services
from zhijian.procurement.models import Appeal, Delivery, Referral, Supplier, SupplierList

pytestmark = pytest.mark.django_db
TITLE = re.compile(r'data-testid="page-title">\s*(.*?)\s*</h1>', re.S)


def page_title(response) -> str:
    match = TITLE.search(response.content.decode())
    assert match, "page has no data-testid=page-title heading"
    return match.group(1)


def field_error(text: str, name: str) -> str:
    match = re.search(rf'id="id_{name}_error">(.*?)</div>\s*</div>', text, re.S)
    assert match, f"no error shown next to {name}"
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1)).strip())


def block(text: str, element_id: str) -> str:
    match = re.search(rf'<(\w+)[^>]*id="{element_id}"[^>]*>(.*?)</\1>', text, re.S)
    assert match, f"no element #{element_id}"
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(2))).strip())


def en(user):
    return make_client(user, "en")


# --- who may open what -----------------------------------------------------------------------

@pytest.mark.parametrize(("who", "status", "where"), [
    (None, 302, "/accounts/login/?next=/work/procurement/"),
    ("enterprise_user", 302, "/work/procurement/listed/"),
    ("xian_officer", 302, "/work/"),
    ("admin_user", 302, "/work/"),
    ("lab_user", 403, None),
    ("user_unit_user", 200, None)])
def test_who_opens_the_home_page(who, status, where, pworld, request):
    user = request.getfixturevalue(who) if who else None
    resp = make_client(user, "en").get("/work/procurement/")
    assert resp.status_code == status
    if where:
        assert resp["Location"] == where


def test_the_home_page_shows_lists_standing_and_pending_deliveries(pworld, user_unit_user):
    w = pworld
    cable_report(w, number="T2026-00001")
    d = services.delivery_record(actor=user_unit_user, data={
        "number": "DN-1", "supplier": w["xian_entity"], "producer": w["xian_entity"],
        "product": None, "product_name": "电缆", "category": w["categories"]["cable"],
        "batch": "C2026-01", "quantity": Decimal("800"), "unit": "m", "site": "长延堡站",
        "delivered_on": timezone.localdate()}, report_numbers=["T2026-00001"])
    revoke(cable_report(w, number="T2026-00009", batch="X"), w)
    services.supplier_rerate(w["cable_supplier"])
    resp = en(user_unit_user).get("/work/procurement/")
    html = resp.content.decode()
    assert page_title(resp) == "Suppliers and deliveries"
    assert block(html, f"delivery-{d.pk}") == (
        f"DN-1 · 电缆 {timezone.localdate():%Y-%m-%d} 西安测试电缆有限公司 · Batch C2026-01 · "
        "800 m · 长延堡站")
    day = timezone.localdate().isoformat()
    row = block(html, f"supplier-{w['cable_supplier'].pk}")
    assert row == (f"西安测试电缆有限公司 {w['xian_entity'].uscc} Removed by a hard rule score 100 "
                   f"Test report revoked: T2026-00009 {day} (hard rule hard.revoked_report)")
    assert block(html, f"supplier-{w['steel_supplier'].pk}") == (
        f"宝鸡测试钢铁有限公司 {w['baoji_entity'].uscc} Qualified score 100 No facts against it "
        "in the look-back period.")


def test_a_delivery_not_yours_is_absent(pworld, user_unit_user, xian_officer, enterprise_user):
    d = services.delivery_record(actor=user_unit_user, data={
        "number": "DN-1", "supplier": pworld["xian_entity"], "producer": pworld["xian_entity"],
        "product": None, "product_name": "电缆", "category": pworld["categories"]["cable"],
        "batch": "C2026-01", "quantity": Decimal("800"), "unit": "m", "site": "长延堡站",
        "delivered_on": timezone.localdate()}, report_numbers=["T1"])
    for user in (xian_officer, enterprise_user):
        assert en(user).get(f"/work/procurement/deliveries/{d.pk}/").status_code == 404
        assert en(user).post(f"/work/procurement/deliveries/{d.pk}/check/").status_code == 404
    assert not d.checks.exists()


# --- the whole flow through the forms --------------------------------------------------------

def test_the_whole_flow_through_the_pages(world, user_unit_user, xian_officer):
    client = en(user_unit_user)
    cable = world["categories"]["cable"]
    resp = client.post("/work/procurement/lists/new/", {"category": cable.pk})
    assert resp.status_code == 302
    sl = SupplierList.objects.get()
    resp = client.post("/work/procurement/lists/new/", {"category": cable.pk})
    assert field_error(resp.content.decode(), "category") == (
        "Select a valid choice. That choice is not one of the available choices.")

    url = f"/work/procurement/lists/{sl.pk}/suppliers/new/"
    resp = client.post(url, {"entity": "91610000XXXXXXXXXX"})
    assert field_error(resp.content.decode(), "entity") == (
        "No market entity has the unified social credit code 91610000XXXXXXXXXX: check the "
        "code on the business licence.")
    resp = client.post(url, {"entity": world["xian_entity"].uscc.lower(), "note": "主供"})
    s = Supplier.objects.get()
    assert (resp.status_code, resp["Location"]) == (302, f"/work/procurement/suppliers/{s.pk}/")
    assert s.note == "主供"

    std = StandardFactory(code="GB/T 5023.3-2008")
    issue_report(lab=world["lab"], producer=world["xian_entity"], category=cable, standard=std,
                 batch="C2026-01", number="T2026-00001")
    post = {"number": "DN-2026-0001", "supplier": world["baoji_entity"].uscc, "producer": "",
            "category": cable.pk, "product_name": "聚氯乙烯绝缘电缆", "batch": "C2026-01",
            "quantity": "800", "unit": "m", "site": "地铁8号线 长延堡站",
            "delivered_on": timezone.localdate().isoformat(),
            "report_numbers": "T2026-00001, GB-FAKE-1"}
    resp = client.post("/work/procurement/deliveries/new/", post)
    assert field_error(resp.content.decode(), "supplier") == (
        "宝鸡测试钢铁有限公司 is not on your qualified-supplier list for 电线电缆: put it on the "
        "list first.")
    resp = client.post("/work/procurement/deliveries/new/",
                       post | {"supplier": world["xian_entity"].uscc,
                               "report_numbers": "T2026-00001"})
    d = Delivery.objects.get()
    assert resp["Location"] == f"/work/procurement/deliveries/{d.pk}/"
    assert (d.producer, d.claimed_numbers) == (world["xian_entity"], ["T2026-00001"])

    durl = f"/work/procurement/deliveries/{d.pk}/"
    resp = client.post(durl + "check/", {"note": ""}, follow=True)
    html = resp.content.decode()
    assert "Rejected: 1 blocking findings." in html
    check = d.checks.get()
    article = block(html, f"check-{check.pk}")
    assert "电线电缆 is a key material: record a witness inspection by a third-party laboratory " \
           "before accepting it." in article
    assert "Signed with the laboratory's registered key" in article
    assert "Delivered 800 m; the counted reports cover 1000 m." in article

    resp = client.post(durl + "witness/", {"lab": world["lab"].pk, "witness": "",
                                           "witnessed_on": "", "result": "pass"})
    assert field_error(resp.content.decode(), "witness") == "This field is required."
    resp = client.post(durl + "witness/", {
        "lab": world["lab"].pk, "witness": "监理 李工",
        "witnessed_on": timezone.localdate().isoformat(), "result": "fail"})
    assert resp.status_code == 302
    resp = client.post(durl + "check/", {"note": "见证检验不合格"}, follow=True)
    html = resp.content.decode()
    assert Delivery.objects.get().status == "rejected"
    assert block(html, "refer-heading") == "Report to the competent department"
    assert "was rejected on acceptance:" in block(html, "refer-form")

    resp = client.post(durl + "refer/", {"text": "见证取样检测不合格，已拒收。"})
    assert resp.status_code == 302
    referral = Referral.objects.get()
    assert (referral.department, referral.text) == (world["departments"]["xian"],
                                                    "见证取样检测不合格，已拒收。")

    officer = en(xian_officer)
    resp = officer.get("/work/procurement/referrals/")
    assert page_title(resp) == "Rejected deliveries referred to us"
    assert f'id="acknowledge-{referral.pk}"' in resp.content.decode()
    assert officer.get(durl).status_code == 200  # the delivery referred to them
    resp = officer.post(f"/work/procurement/referrals/{referral.pk}/acknowledge/", follow=True)
    assert "Referral of delivery DN-2026-0001 acknowledged." in resp.content.decode()
    assert Referral.objects.get().acknowledged_at is not None


def test_a_removed_supplier_appeals_and_the_unit_decides(pworld, user_unit_user,
                                                         enterprise_user):
    revoke(cable_report(pworld, number="T2026-00009"), pworld)
    s = services.supplier_rerate(pworld["cable_supplier"])
    firm = en(enterprise_user)
    resp = firm.get("/work/procurement/listed/")
    assert page_title(resp) == "Where we are listed"
    assert f'id="appeal-{s.pk}"' in resp.content.decode()
    surl = f"/work/procurement/suppliers/{s.pk}/"
    resp = firm.post(surl + "appeal/", {"grounds": "不服"})
    assert field_error(resp.content.decode(), "grounds") == (
        "Explain in at least 10 characters why the removal should be set aside.")
    resp = firm.post(surl + "appeal/", {"grounds": "该报告因笔误撤销，已重新出具报告。"})
    assert resp.status_code == 302
    appeal = Appeal.objects.get()
    unit = en(user_unit_user)
    html = unit.get(surl).content.decode()
    assert f'id="decide-form-{appeal.pk}"' in html
    resp = unit.post(f"/work/procurement/appeals/{appeal.pk}/decide/",
                     {f"a{appeal.pk}-upheld": "1", f"a{appeal.pk}-decision": "暂予保留"})
    assert field_error(resp.content.decode(), "until") == (
        "Give the day until which the removal is set aside.")
    until = timezone.localdate() + dt.timedelta(days=30)
    resp = unit.post(f"/work/procurement/appeals/{appeal.pk}/decide/",
                     {f"a{appeal.pk}-upheld": "1", f"a{appeal.pk}-decision": "暂予保留",
                      f"a{appeal.pk}-until": until.isoformat()}, follow=True)
    assert "Appeal decided: Upheld." in resp.content.decode()
    assert Supplier.objects.get(pk=s.pk).standing == "qualified"
    html = firm.get(surl).content.decode()
    assert block(html, "set-aside") == f"revoked_report · until {until.isoformat()}"
    # The enterprise cannot decide; a stranger cannot see.
    assert firm.post(f"/work/procurement/appeals/{appeal.pk}/decide/").status_code == 302
    stranger = f.UserFactory(username="other-firm", role="enterprise",
                             entity=pworld["baoji_entity"])
    assert en(stranger).get(surl).status_code == 404


def test_pages_render_in_chinese(pworld, user_unit_user, enterprise_user, xian_officer):
    for user, path in [(user_unit_user, "/work/procurement/"),
                       (user_unit_user, "/work/procurement/deliveries/"),
                       (user_unit_user, "/work/procurement/deliveries/new/"),
                       (user_unit_user, "/work/procurement/lists/new/"),
                       (user_unit_user, f"/work/procurement/suppliers/{pworld['cable_supplier'].pk}/"),
                       (enterprise_user, "/work/procurement/listed/"),
                       (xian_officer, "/work/procurement/referrals/")]:
        resp = make_client(user).get(path)
        assert resp.status_code == 200, path
        assert 'lang="zh-Hans"' in resp.content.decode()


@pytest.mark.parametrize("model", ["supplierlist", "supplier", "appeal", "delivery",
                                   "witnessinspection", "acceptancecheck", "referral"])
def test_the_admin_shows_the_records_read_only(model, pworld, admin_user):
    client = make_client(admin_user, "en")
    resp = client.get(f"/admin/procurement/{model}/")
    assert resp.status_code == 200
    assert client.get(f"/admin/procurement/{model}/add/").status_code == 403


def test_the_models_and_migrations_agree():
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("makemigrations", "procurement", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()
