"""Pages of joint punishment (zhijian/credit/views/measures.py): measures by department,
declaring and withdrawing, the credit check form, the printable result, the list in
jurisdiction, and the flagged supplier listing's message."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.credit.test_measures_services import BASIS, UNKNOWN, day, declare, list_entity, rate
from zhijian.credit.models import CreditCheck, Measure
from zhijian.credit.services import measures as svc
from zhijian.procurement import services as procurement

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        c.force_login(user)
    return c


def test_the_measures_page_lists_by_department(world, province_officer, xian_officer):
    m = declare(province_officer)
    declare(xian_officer, code="no_honours", contexts=["honour"], start=day(3))
    resp = client_for(xian_officer).get(reverse("credit:measure_list"))
    html = resp.content.decode()
    assert resp.status_code == 200
    assert f'id="measure-{m.pk}" data-state="in_force"' in html
    assert 'data-state="scheduled"' in html
    assert html.index("陕西省市场监督管理局") < html.index("西安市市场监督管理局")
    # Only the own department's measures carry a withdraw form.
    assert f'id="withdraw-{m.pk}"' not in html
    assert BASIS in html


@pytest.mark.parametrize(("who", "status"), [("enterprise_user", 403), ("user_unit_user", 403),
                                              ("lab_user", 403)])
def test_organisations_may_not_open_the_measure_pages(request, world, who, status):
    c = client_for(request.getfixturevalue(who))
    assert c.get(reverse("credit:measure_list")).status_code == status
    assert c.get(reverse("credit:measure_declare")).status_code == status
    assert c.get(reverse("credit:check_new")).status_code == status


def test_anonymous_users_go_to_the_login(world):
    resp = Client().get(reverse("credit:check_list"))
    assert resp.status_code == 302 and "login" in resp["Location"]


def test_declare_and_withdraw_on_the_page(world, xian_officer):
    c = client_for(xian_officer)
    resp = c.post(reverse("credit:measure_declare"), {
        "code": "bar_tender", "trigger": "blacklist", "effect": "block",
        "contexts": ["tender", "licence"], "legal_basis": BASIS,
        "effective_from": day(-1).isoformat()})
    assert resp.status_code == 302
    m = Measure.objects.get()
    assert (m.department, m.contexts) == (world["departments"]["xian"], ["licence", "tender"])
    resp = c.post(reverse("credit:measure_withdraw", args=[m.pk]), {f"m{m.pk}-reason": "x"})
    assert resp.status_code == 400
    assert "Say why the measure is withdrawn (at least 5 characters)." in resp.content.decode()
    assert Measure.objects.get().effective_until is None
    resp = c.post(reverse("credit:measure_withdraw", args=[m.pk]),
                  {f"m{m.pk}-reason": "与省局措施重复"})
    assert resp.status_code == 302
    assert Measure.objects.get().effective_until == day(-1)


def test_a_bad_declaration_shows_the_error_next_to_the_field(world, xian_officer):
    resp = client_for(xian_officer).post(reverse("credit:measure_declare"), {
        "code": "bar_tender", "trigger": "blacklist", "effect": "block",
        "contexts": ["tender"], "legal_basis": BASIS, "effective_from": day().isoformat(),
        "effective_until": day(-3).isoformat()})
    assert resp.status_code == 200
    assert ('id="id_effective_until_error"><div>The last day of the measure is before the day '
            'it takes effect.</div>') in resp.content.decode()
    assert not Measure.objects.exists()


def test_the_check_page_stores_and_prints_the_result(world, province_officer, xian_officer):
    declare(province_officer, code="restrict_licence", contexts=["licence"])
    entity = world["xian_entity"]
    list_entity(entity, world["departments"]["xian"], since=day(-4))
    rate(entity, "D")
    c = client_for(xian_officer)
    resp = c.post(reverse("credit:check_new"), {"uscc": entity.uscc, "context": "licence",
                                                "reference": "XK-2026-9"})
    check = CreditCheck.objects.get()
    assert resp["Location"] == reverse("credit:check_detail", args=[check.pk])
    html = c.get(resp["Location"]).content.decode()
    assert 'data-outcome="blocked"' in html and 'id="print-button"' in html
    assert '<dd class="col-sm-9 font-monospace" id="check-reference">XK-2026-9</dd>' in html
    assert f"Listed as seriously dishonest since {day(-4).isoformat()}" in html
    assert '<dd class="col-sm-9" id="check-class">D</dd>' in html


def test_a_bad_uscc_on_the_check_page(world, xian_officer):
    resp = client_for(xian_officer).post(reverse("credit:check_new"), {
        "uscc": "12345", "context": "tender"})
    assert resp.status_code == 200
    assert "A unified social credit code has 18 characters; this one has 5." in (
        resp.content.decode())
    assert not CreditCheck.objects.exists()


def test_checks_in_jurisdiction(world, xian_officer, baoji_officer, admin_user,
                                django_assert_max_num_queries):
    checks = [svc.credit_check(uscc=world["xian_entity"].uscc, context="tender",
                               reference=f"ZB{i}", actor=xian_officer) for i in range(4)]
    svc.credit_check(uscc=UNKNOWN, context="honour", actor=baoji_officer)
    c = client_for(xian_officer)
    with django_assert_max_num_queries(14):
        html = c.get(reverse("credit:check_list")).content.decode()
    assert [f'id="check-{k.pk}"' in html for k in checks] == [True] * 4
    assert "Not in the register" not in html
    html = c.get(reverse("credit:check_list"), {"q": "ZB2"}).content.decode()
    assert html.count('<tr id="check-') == 1
    assert client_for(baoji_officer).get(
        reverse("credit:check_detail", args=[checks[0].pk])).status_code == 404
    assert "Not in the register" in client_for(admin_user).get(
        reverse("credit:check_list")).content.decode()


def test_the_user_unit_sees_its_listing_check_without_the_class(
        world, province_officer, user_unit_user):
    declare(province_officer, code="bar_supplier", trigger="class_d", effect="flag",
            contexts=["supplier_listing"])
    rate(world["xian_entity"], "D")
    sl = procurement.supplier_list_create(actor=user_unit_user,
                                          category_id=world["categories"]["cable"].pk)
    c = client_for(user_unit_user)
    resp = c.post(reverse("procurement:supplier_add", args=[sl.pk]),
                  {"entity": world["xian_entity"].uscc, "note": ""}, follow=True)
    html = resp.content.decode()
    check = CreditCheck.objects.get()
    assert f"Allowed with closer scrutiny (credit check #{check.pk})" in html
    assert "which is for internal use and not disclosed" in html
    detail = c.get(reverse("credit:check_detail", args=[check.pk])).content.decode()
    assert 'id="check-class"' not in detail and "Credit class D" not in detail
