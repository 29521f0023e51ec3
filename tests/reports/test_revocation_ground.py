# ruff: noqa: F811  (fixtures imported from tests.reports.test_signals)
"""The ground of a revocation and the outcome of a fake-report signal (docs/reports.md,
docs/fake-report-signals.md): the ground is stored, signed in the revocation statement and
shown by the verification; only a regulator revokes on the ground "false"; statements
signed before the ground was introduced still verify; the report.revoked and signal.closed
events carry the ground and the outcome; the revoke and close forms and the API."""

from __future__ import annotations

import hashlib
import html as htmllib
import json
import re

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from rest_framework.test import APIClient

from tests.api.conftest import _FIXTURE, PERSONAS
from tests.api.matrix import Case, L, S, check_case
from tests.reports.test_signals import N, client, issue, pair, standard, unit  # noqa: F401
from zhijian.core import audit, canonical, signing
from zhijian.core.access import Denied
from zhijian.core.models import AuditEntry, OutboxEvent
from zhijian.portal import reports as portal
from zhijian.reports import offline, services, signals
from zhijian.reports.models import Report, Revocation, Signal

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _keys(settings, tmp_path):
    settings.ZHIJIAN_AUDIT_KEY_FILE = tmp_path / "audit-key.pem"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def state() -> tuple:
    return (list(Report.objects.order_by("pk").values()),
            list(Revocation.objects.order_by("pk").values()),
            list(Signal.objects.order_by("pk").values()),
            AuditEntry.objects.count(), OutboxEvent.objects.count())


def event(name: str) -> dict:
    return OutboxEvent.objects.filter(name=name).order_by("-id").first().payload


# --- the ground, stored and signed ----------------------------------------------------------------

def test_a_regulator_revokes_a_report_as_false_and_the_ground_is_signed(world, standard,
                                                                        xian_officer):
    report = issue(world, standard)
    revocation = services.report_revoke(actor=xian_officer, report_id=report.pk,
                                        reason=" 原始记录显示该样品未经检验 ", ground="false")
    revocation.refresh_from_db()
    assert (revocation.ground, revocation.reason, revocation.revoked_by) == (
        "false", "原始记录显示该样品未经检验", xian_officer)
    body = json.loads(revocation.statement)
    assert body == {
        "format": "zhijian-revocation/1", "number": N, "reason": "原始记录显示该样品未经检验",
        "ground": "false", "revoked_at": canonical.to_jsonable(revocation.revoked_at),
        "payload_sha256": hashlib.sha256(report.payload.encode()).hexdigest()}
    assert revocation.statement == canonical.canonical_text(body)
    assert signing.verify_statement(revocation.key_id, revocation.statement,
                                    revocation.signature)
    assert event("report.revoked") == {
        "report": report.pk, "number": N, "lab": world["lab"].pk,
        "producer": world["xian_entity"].pk, "reason": "原始记录显示该样品未经检验",
        "ground": "false"}
    # What anyone verifying the number is told.
    check = services.report_verify(N).as_dict()["checks"][-2]
    assert check == {"key": "revocation", "ok": False, "code": "revoked_false",
                     "params": {"reason": "原始记录显示该样品未经检验"},
                     "message": "The report was revoked: a regulator found it false or "
                                "forged. 原始记录显示该样品未经检验"}
    data = portal.revocation_data(Report.objects.get(pk=report.pk))
    assert (data["ground"], data["reason"], data["statement"]) == (
        "false", "原始记录显示该样品未经检验", revocation.statement)


def test_the_lab_revokes_on_the_ground_error_by_default(world, standard, lab_user):
    report = issue(world, standard)
    revocation = services.report_revoke(actor=lab_user, report_id=report.pk,
                                        reason="检测数据录入错误")
    assert revocation.ground == "error"
    assert json.loads(revocation.statement)["ground"] == "error"
    assert event("report.revoked")["ground"] == "error"
    check = services.report_verify(N).checks[-2]
    assert (check.code, check.params) == ("revoked", {"reason": "检测数据录入错误"})


@pytest.mark.parametrize(("who", "ground", "message"), [
    ("lab_user", "false", "Only a regulator may find a report false or forged; revoke it on "
                          "the ground of an error, or report the facts to the market "
                          "regulator."),
    ("admin_user", "false", "Only a regulator may find a report false or forged; revoke it on "
                            "the ground of an error, or report the facts to the market "
                            "regulator."),
    ("xian_officer", "forged", "Choose the ground: an error (or the laboratory's request), or "
                               "a report found false or forged."),
])
def test_a_ground_refused_names_the_field_and_changes_nothing(world, standard, request, who,
                                                             ground, message):
    report = issue(world, standard)
    before = state()
    with pytest.raises(ValidationError) as exc:
        services.report_revoke(actor=request.getfixturevalue(who), report_id=report.pk,
                               reason="报告系伪造", ground=ground)
    assert exc.value.message_dict == {"ground": [message]}
    assert state() == before


def test_a_regulator_of_another_jurisdiction_may_not_revoke(world, standard, baoji_officer):
    report = issue(world, standard)
    before = state()
    with pytest.raises(Denied):
        services.report_revoke(actor=baoji_officer, report_id=report.pk, reason="虚假",
                               ground="false")
    assert state() == before


# --- statements signed before the ground was introduced -------------------------------------------

def old_statement(revocation: Revocation, report: Report) -> None:
    """Rewrite a revocation as it was signed before the ground existed (no "ground")."""
    statement = canonical.canonical_text({
        "format": "zhijian-revocation/1", "number": report.number, "reason": revocation.reason,
        "revoked_at": revocation.revoked_at,
        "payload_sha256": hashlib.sha256(report.payload.encode()).hexdigest()})
    key = signing.audit_key()
    Revocation.objects.filter(pk=revocation.pk).update(
        statement=statement, signature=key.sign(statement.encode()).hex(), key_id=key.key_id)


def test_an_old_statement_without_the_ground_still_verifies(world, standard, lab_user):
    report = issue(world, standard)
    revocation = services.report_revoke(actor=lab_user, report_id=report.pk, reason="校准过期")
    old_statement(revocation, report)
    report = Report.objects.select_related("revocation", "key").get(pk=report.pk)
    data = portal.revocation_data(report)
    assert "ground" not in json.loads(data["statement"])
    assert data["ground"] is None
    assert portal._revocation(report)["signature_ok"] is True
    assert services.report_verify(N).checks[-2].code == "revoked"
    # The offline verifier: the old statement is genuine and says no ground.
    checks = dict((name, (ok, detail)) for name, ok, detail in
                  offline.verify_bundle(portal.report_bundle_data(report)))
    assert checks["signature"][0] is True
    assert checks["revocation"][1].startswith(f"report {N} was revoked at ")
    assert checks["revocation"][1].endswith(": 校准过期")
    # The public page shows the statement, verified, and no ground it was not signed with.
    html = client(None).get(f"/verify/{N}/").content.decode()
    assert 'id="revocation-signature-ok">signature verified' in html
    assert 'id="revocation-ground"' not in html


def test_a_new_statement_shows_its_ground_everywhere(world, standard, xian_officer):
    report = issue(world, standard)
    services.report_revoke(actor=xian_officer, report_id=report.pk, reason="未经检验出具报告",
                           ground="false")
    report = Report.objects.select_related("revocation", "key").get(pk=report.pk)
    checks = {name: (ok, detail) for name, ok, detail in
              offline.verify_bundle(portal.report_bundle_data(report))}
    assert checks["revocation"][0] is False
    assert checks["revocation"][1].startswith(
        f"report {N} was revoked as found false or forged by a regulator at ")
    html = client(None).get(f"/verify/{N}/").content.decode()
    assert ('<span id="revocation-ground" data-ground="false">Found false or forged by a '
            'regulator</span>') in html
    assert 'id="revocation-signature-ok">signature verified' in html
    downloaded = json.loads(client(None).get(f"/verify/{N}/revocation.json").content)
    assert downloaded["ground"] == "false"
    api = json.loads(APIClient().get(f"/api/v1/public/reports/{N}/revocation/").content)
    assert (api["ground"], api["reason"]) == ("false", "未经检验出具报告")


# --- the revoke form and the API ------------------------------------------------------------------

def ground_choices(html: str) -> list[str]:
    return re.findall(r'name="ground" value="(\w+)"', html)


def error_of(html: str, name: str) -> str:
    match = re.search(rf'id="id_{name}_error">(.*?)</div>\s*</div>', html, re.S)
    assert match, f"no error shown next to {name}"
    return htmllib.unescape(re.sub(r"<[^>]+>", "", match.group(1)).strip())


def test_the_form_offers_false_to_regulators_only(world, standard, xian_officer, lab_user):
    report = issue(world, standard)
    url = f"/work/reports/{report.pk}/"
    assert ground_choices(client(xian_officer).get(url).content.decode()) == ["error", "false"]
    assert ground_choices(client(lab_user).get(url).content.decode()) == ["error"]
    # A lab posting "false" anyway is refused next to the field; nothing changes.
    before = state()
    response = client(lab_user).post(url + "revoke/", {"reason": "伪造", "ground": "false"})
    assert response.status_code == 200
    assert error_of(response.content.decode(), "ground").startswith(
        "Only a regulator may find a report false or forged")
    assert state() == before
    response = client(xian_officer).post(url + "revoke/", {"reason": "样品未经检验",
                                                           "ground": "false"})
    assert response.status_code == 302
    html = client(xian_officer).get(url).content.decode()
    assert 'data-ground="false">Found false or forged by a regulator</span>' in html
    assert Revocation.objects.get().ground == "false"


def test_the_form_without_a_ground_revokes_for_an_error(world, standard, lab_user):
    report = issue(world, standard)
    response = client(lab_user).post(f"/work/reports/{report.pk}/revoke/",
                                     {"reason": "录入错误"})
    assert response.status_code == 302
    assert Revocation.objects.get().ground == "error"


def test_the_api_takes_the_ground(world, standard, lab_user, xian_officer):
    report = issue(world, standard)
    api = APIClient()
    api.force_authenticate(lab_user)
    before = state()
    resp = api.post(f"/api/v1/reports/{report.pk}/revoke/", {"reason": "伪造",
                                                             "ground": "false"}, format="json")
    assert resp.status_code == 400
    assert [e["attr"] for e in resp.json()["errors"]] == ["ground"]
    assert state() == before
    resp = api.post(f"/api/v1/reports/{report.pk}/revoke/", {"reason": "x", "ground": "maybe"},
                    format="json")
    assert resp.status_code == 400 and [e["attr"] for e in resp.json()["errors"]] == ["ground"]
    assert state() == before
    api.force_authenticate(xian_officer)
    resp = api.post(f"/api/v1/reports/{report.pk}/revoke/", {"reason": "样品未经检验",
                                                             "ground": "false"}, format="json")
    assert resp.status_code == 200
    assert (resp.json()["revocation"]["ground"], resp.json()["revocation"]["reason"]) == (
        "false", "样品未经检验")


# --- the outcome of a fake-report signal ----------------------------------------------------------

def test_closing_records_the_outcome_and_the_event_carries_it(pair, xian_officer):
    signal = signals.signal_close(actor=xian_officer, signal_id=pair["cable"].pk,
                                  note="供货合同显示同一报告用于三批货物", outcome="confirmed")
    signal.refresh_from_db()
    assert (signal.outcome, signal.closed_note) == ("confirmed", "供货合同显示同一报告用于三批货物")
    assert event("signal.closed") == {
        "signal": signal.pk, "kind": "over_coverage", "number": N, "lab": signal.lab_id,
        "producer": signal.report.producer_id, "outcome": "confirmed",
        "department": xian_officer.department_id}
    entry = audit.history("reports.signal", signal.pk)[-1]
    assert (entry["action"], entry["after"]["outcome"], entry["before"]["outcome"]) == (
        "signal.closed", "confirmed", "")


@pytest.mark.parametrize(("who", "outcome", "message"), [
    ("xian_officer", "maybe", "Choose the outcome: confirmed (the report is false), "
                              "unfounded, or none."),
    ("admin_user", "confirmed", "Only a regulator may confirm that a report is false; close "
                                "the signal without an outcome or as unfounded."),
])
def test_an_outcome_refused_names_the_field(pair, request, who, outcome, message):
    before = state()
    with pytest.raises(ValidationError) as exc:
        signals.signal_close(actor=request.getfixturevalue(who), signal_id=pair["cable"].pk,
                             note="核查", outcome=outcome)
    assert exc.value.message_dict == {"outcome": [message]}
    assert state() == before


def test_an_administrator_closes_as_unfounded(pair, admin_user):
    signal = signals.signal_close(actor=admin_user, signal_id=pair["steel"].pk,
                                  note="编号系笔误", outcome="unfounded")
    assert signal.outcome == "unfounded"
    assert event("signal.closed")["outcome"] == "unfounded"
    assert event("signal.closed")["department"] is None


def test_the_close_form_takes_the_outcome(pair, xian_officer):
    signal = pair["cable"]
    c = client(xian_officer)
    html = c.get(f"/work/reports/signals/{signal.pk}/").content.decode()
    assert re.findall(r'name="outcome" value="(\w*)"', html) == ["", "confirmed", "unfounded"]
    response = c.post(f"/work/reports/signals/{signal.pk}/close/",
                      {"note": "已核对合同", "outcome": "confirmed"})
    assert response.status_code == 302
    html = c.get(response["Location"]).content.decode()
    assert ('id="closed-outcome" data-outcome="confirmed">Confirmed: the report is false'
            '</span>') in html
    html = c.get("/work/reports/signals/", {"state": "closed"}).content.decode()
    assert "Confirmed: the report is false" in html


# --- the signal API -------------------------------------------------------------------------------

@pytest.fixture
def persona(request):
    return lambda name: None if name == "anonymous" else request.getfixturevalue(_FIXTURE[name])


def fingerprint() -> dict:
    return {"signals": list(Signal.objects.order_by("pk").values()),
            "audit_entries": AuditEntry.objects.count(),
            "outbox_events": OutboxEvent.objects.count()}


def signal_url(grid, which="cable", suffix=""):
    return f"/api/v1/report-signals/{grid[which].pk}/{suffix}"


VISIBLE = L(None, {N, "GJ-404"}, {N, "GJ-404"}, {N}, {"GJ-404"}, set(), set(), set(), set())
CASES = [
    Case("report-signal:list", "get", lambda g: "/api/v1/report-signals/",
         key=lambda r: r["number"], expect=VISIBLE),
    Case("report-signal:retrieve", "get", lambda g: signal_url(g),
         S(401, 200, 200, 200, 404, 404, 404, 404, 404)),
    Case("report-signal:close", "post", lambda g: signal_url(g, suffix="close/"),
         S(401, 200, 200, 200, 404, 404, 404, 404, 404), writes=1,
         body=lambda g: {"note": "已核对供货合同", "outcome": "unfounded"}),
]


@pytest.mark.parametrize(("case", "who"),
                         [pytest.param(c, p, id=f"{c.id}-{p}") for c in CASES for p in PERSONAS])
def test_signal_api_matrix(case, who, pair, persona, api):
    check_case(case, who, pair, persona(who), api, fingerprint)


def test_every_signal_endpoint_is_in_the_matrix():
    from zhijian.reports.signal_api import router

    found = {f"{basename}:{action}" for _p, viewset, basename in router.registry
             for route in router.get_routes(viewset)
             for method, action in route.mapping.items()
             if hasattr(viewset, action) and method != "options"}
    assert found == {c.action for c in CASES}


def test_the_api_closes_with_the_outcome_and_filters(pair, xian_officer, province_officer, api):
    api.force_authenticate(xian_officer)
    api.credentials(HTTP_ACCEPT_LANGUAGE="en")
    before = fingerprint()
    resp = api.post(signal_url(pair, suffix="close/"), {"note": "核查", "outcome": "maybe"},
                    format="json")
    assert resp.status_code == 400 and [e["attr"] for e in resp.json()["errors"]] == ["outcome"]
    assert fingerprint() == before
    resp = api.post(signal_url(pair, suffix="close/"), {"note": "合同显示超范围使用",
                                                        "outcome": "confirmed"}, format="json")
    assert resp.status_code == 200
    body = resp.json()
    assert (body["outcome"], body["closed_note"], body["kind"]) == (
        "confirmed", "合同显示超范围使用", "over_coverage")
    assert body["explanation"] == ("Deliveries cite report JC2026-0001 for 1,200 m; it covers "
                                   "1,000 m (delivery notes: DN-1).")
    api.force_authenticate(province_officer)
    rows = api.get("/api/v1/report-signals/", {"outcome": "confirmed"}).json()["results"]
    assert [r["number"] for r in rows] == [N]
    rows = api.get("/api/v1/report-signals/", {"state": "open"}).json()["results"]
    assert [r["number"] for r in rows] == ["GJ-404"]


def test_the_signal_list_has_a_fixed_number_of_queries(pair, province_officer, api,
                                                       django_assert_max_num_queries):
    api.force_authenticate(province_officer)
    with django_assert_max_num_queries(8):
        resp = api.get("/api/v1/report-signals/")
    assert resp.status_code == 200 and len(resp.json()["results"]) == 2
