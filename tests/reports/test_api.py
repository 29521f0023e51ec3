"""The test-report API (/api/v1/reports/, lab-keys/, instruments/, hazard-reports/): the
authorization matrix of every endpoint and method for every persona (exact statuses,
exact rows, and for every refusal proof that nothing changed), bad input naming the field,
the whole lab-held-key flow through the API, and query-count pins on the lists.

`rgrid` (also used by the page tests) is the world plus: the world lab (Xi'an) with a
platform-held and a lab-held key and a calibrated instrument; a Baoji lab with its own; the
Xi'an lab's issued commissioned report XA-001 on the Xi'an cable maker, its issued
supervisory report XA-SUP on a sample the Xi'an bureau took, its draft XA-DRAFT; the Baoji
lab's report BJ-001 on the Baoji steel maker commissioned by the Xi'an firm and attached to
a delivery to the Xi'an metro; and two hazard reports, one to the Xi'an bureau, one to the
Baoji bureau."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests import factories as f
from tests.api.conftest import _FIXTURE, PERSONAS, rows_of
from tests.api.matrix import Case, L, S, check_case
from tests.reports.helpers import DEFAULT_ITEMS, ready_lab
from zhijian.core.models import AuditEntry, OutboxEvent
from zhijian.procurement.models import Delivery
from zhijian.reports import hazards, services
from zhijian.reports.api import router
from zhijian.reports.models import (
    Calibration,
    HazardReport,
    Instrument,
    LabKey,
    Report,
    ReportItem,
    Revocation,
)
from zhijian.sampling import services as sampling

MISSING = 10**9
XA, SUP, DRAFT, BJ = "XA-001", "XA-SUP", "XA-DRAFT", "BJ-001"
XE, BE = "西安测试电缆有限公司", "宝鸡测试钢铁有限公司"
WLAB, BLAB = "西安测试检测中心", "宝鸡测试检测中心"
NONE: set = set()


# --- the grid --------------------------------------------------------------------------------

def lab_key_pair() -> tuple[Ed25519PrivateKey, str]:
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(serialization.Encoding.Raw,
                                               serialization.PublicFormat.Raw)
    return private, public.hex()


def draft(*, lab, actor, producer, category, standard, number, instrument, kind="commissioned",
          sample=None, client=None, items=None, conclusion="pass") -> Report:
    day = timezone.localdate()
    return services.report_draft(
        actor=actor,
        data={"number": number, "kind": kind, "sample": sample, "producer": producer,
              "client": client, "category": category, "product_name": "聚氯乙烯绝缘电缆",
              "model": "BV 2.5", "batch": "B2026-11", "quantity_covered": Decimal("1000"),
              "unit": "m", "standard": standard, "received_on": day - dt.timedelta(days=5),
              "tested_from": day - dt.timedelta(days=4), "tested_to": day - dt.timedelta(days=1),
              "conclusion": conclusion, "authorised_by": "王工"},
        items=items or DEFAULT_ITEMS, instrument_ids=[instrument.pk])


def received_sample(w, officer, lab_user, *, batch="S2026-11", seal="FY-0001"):
    """A cable sample the Xi'an bureau took under its active plan, assigned to the world lab
    and received there (chain of custody intact)."""
    today = timezone.localdate()
    plan = sampling.sampling_plan_save(
        actor=officer, categories=[w["categories"]["cable"]],
        data={"title": "西安市电线电缆产品质量监督抽查", "department": w["departments"]["xian"],
              "division_prefixes": ["6101"], "online": False,
              "period_start": today - dt.timedelta(days=30),
              "period_end": today + dt.timedelta(days=30), "target_count": 10})
    sampling.sampling_plan_activate(actor=officer, plan_id=plan.pk)
    sample = sampling.sample_record(
        actor=officer, plan_id=plan.pk, lab_id=w["lab"].pk,
        data={"channel": "on_site", "entity": w["xian_entity"], "producer": w["xian_entity"],
              "product_name": "电力电缆", "model": "YJV-0.6/1kV 3×95",
              "category": w["categories"]["cable"], "batch": batch,
              "quantity": Decimal("30"), "unit": "m", "place": "西安市雁塔区测试路1号成品库",
              "seal_number": seal, "sampled_at": timezone.now() - dt.timedelta(days=6)})
    handover = sampling.handover_give(actor=officer, sample_id=sample.pk,
                                      to_user_id=lab_user.pk)
    sampling.handover_receive(actor=lab_user, handover_id=handover.pk, seal_intact=True,
                              seal_number_seen=seal)
    sample.refresh_from_db()
    return sample


def build(world, lab_user, xian_officer, user_unit_user) -> dict:
    cats = world["categories"]
    cable_std = f.StandardFactory(code="GB/T 5023.3-2008", title="聚氯乙烯绝缘电缆")
    cable_std.categories.set([cats["cable"]])
    steel_std = f.StandardFactory(code="GB/T 1499.2-2018", title="钢筋混凝土用钢 热轧带肋钢筋")
    steel_std.categories.set([cats["steel"]])
    lab = world["lab"]
    baoji_lab = f.LabFactory(division=f.division("610302"), name=BLAB)
    _, instrument = ready_lab(lab, cable_std)
    baoji_signer, baoji_instrument = ready_lab(baoji_lab, steel_std)
    private, public_hex = lab_key_pair()
    own_key = services.key_register(actor=lab_user, public_key_hex=public_hex)
    platform_key = LabKey.objects.get(lab=lab, custody="platform")
    baoji_key = LabKey.objects.get(lab=baoji_lab)

    common = {"lab": lab, "actor": lab_user, "producer": world["xian_entity"],
              "category": cats["cable"], "standard": cable_std, "instrument": instrument}
    xa = services.report_issue(actor=lab_user, report_id=draft(number=XA, **common).pk)
    sample = received_sample(world, xian_officer, lab_user)
    sup = services.report_issue(actor=lab_user, report_id=draft(
        number=SUP, kind="supervisory", sample=sample, **common).pk)
    pending = draft(number=DRAFT, **common)
    bj = services.report_issue(actor=baoji_signer, report_id=draft(
        lab=baoji_lab, actor=baoji_signer, producer=world["baoji_entity"], category=cats["steel"],
        standard=steel_std, instrument=baoji_instrument, number=BJ,
        client=world["xian_entity"]).pk)
    delivery = Delivery.objects.create(
        number="SH-0001", user_unit=world["user_unit"], supplier=world["baoji_entity"],
        producer=world["baoji_entity"], product_name="热轧带肋钢筋", category=cats["steel"],
        batch="B2026-11", quantity=Decimal("20"), unit="t", site="地铁8号线",
        delivered_on=timezone.localdate(), claimed_numbers=[BJ], created_by=user_unit_user)
    delivery.reports.set([bj])
    h_xian = hazards.hazard_report(actor=lab_user, report_id=xa.pk,
                                   description="导体电阻严重超标，存在过热起火风险")
    h_baoji = hazards.hazard_report(actor=lab_user, entity_id=world["baoji_entity"].pk,
                                    category_id=cats["steel"].pk,
                                    description="钢筋屈服强度远低于标准值")
    return world | {
        "cable_std": cable_std, "steel_std": steel_std, "baoji_lab": baoji_lab,
        "instrument": instrument, "baoji_instrument": baoji_instrument,
        "own_key": own_key, "private": private, "platform_key": platform_key,
        "baoji_key": baoji_key, "xa": xa, "sup": sup, "draft": pending, "bj": bj,
        "sample": sample, "delivery": delivery, "h_xian": h_xian, "h_baoji": h_baoji,
    }


@pytest.fixture
def rgrid(world, lab_user, xian_officer, user_unit_user):
    return build(world, lab_user, xian_officer, user_unit_user)


@pytest.fixture(autouse=True)
def _audit_key(settings, tmp_path):
    settings.ZHIJIAN_AUDIT_KEY_FILE = tmp_path / "audit-key.pem"


@pytest.fixture
def persona(request):
    return lambda name: None if name == "anonymous" else request.getfixturevalue(_FIXTURE[name])


def fingerprint() -> dict:
    """Everything a refused request must leave as it was."""
    def rows(model):
        return list(model.objects.order_by("pk").values())

    through = Report.instruments.through
    return {
        "reports": rows(Report), "items": rows(ReportItem),
        "report_instruments": sorted(through.objects.values_list("report_id", "instrument_id")),
        "keys": rows(LabKey), "instruments": rows(Instrument), "calibrations": rows(Calibration),
        "revocations": rows(Revocation), "hazards": rows(HazardReport),
        "audit_entries": AuditEntry.objects.count(), "outbox_events": OutboxEvent.objects.count(),
    }


# --- the matrix ----------------------------------------------------------------------------------

number = lambda row: row["number"]  # noqa: E731
lab_name = lambda row: row["lab_name"]  # noqa: E731
entity_name = lambda row: row["entity"]["name"]  # noqa: E731


def report_url(g, key="xa", suffix=""):
    return f"/api/v1/reports/{g[key].pk}/{suffix}"


def new_report_body(g):
    day = timezone.localdate()
    return {"number": "XA-NEW", "kind": "commissioned", "producer": g["xian_entity"].uscc,
            "category": "electrical.cable", "product_name": "聚氯乙烯绝缘电缆", "model": "BV 2.5",
            "batch": "B2026-12", "quantity_covered": "500.000", "unit": "m",
            "standard": "GB/T 5023.3-2008", "received_on": str(day - dt.timedelta(days=5)),
            "tested_from": str(day - dt.timedelta(days=4)),
            "tested_to": str(day - dt.timedelta(days=1)), "conclusion": "pass",
            "authorised_by": "王工", "items": DEFAULT_ITEMS, "instruments": [g["instrument"].pk]}


# Who may act for the Xi'an lab: its users; an administrator must name the lab (400);
# others who can see the record are refused (403), the rest get 404.
LAB_ONLY_CREATE = S(401, 400, 403, 403, 403, 403, 403, 201, 403)
XA_VISIBLE = S(401, 200, 200, 200, 404, 404, 200, 200, 404)
DRAFT_ACTORS = S(401, 200, 404, 404, 404, 404, 404, 200, 404)
LAB_THING = S(401, 200, 200, 200, 404, 200, 404, 200, 404)
LAB_THING_WRITE = S(401, 200, 403, 403, 404, 403, 404, 200, 404)

CASES = [
    # --- reports --------------------------------------------------------------------------
    Case("report:list", "get", lambda g: "/api/v1/reports/", key=number,
         expect=L(None, {XA, SUP, DRAFT, BJ}, {XA, SUP, BJ}, {XA, SUP}, {SUP, BJ}, {SUP},
                  {XA, SUP, BJ}, {XA, SUP, DRAFT}, {BJ})),
    Case("report:retrieve", "get", report_url, XA_VISIBLE),
    Case("report:retrieve", "get", lambda g: report_url(g, "draft"), DRAFT_ACTORS, label="draft"),
    Case("report:retrieve", "get", lambda g: report_url(g, "bj"),
         S(401, 200, 200, 404, 200, 404, 200, 404, 200), label="baoji"),
    Case("report:retrieve", "get", lambda g: report_url(g, "sup"),
         S(401, 200, 200, 200, 200, 200, 200, 200, 404), label="supervisory"),
    Case("report:retrieve", "get", lambda g: f"/api/v1/reports/{MISSING}/",
         S(401, 404, 404, 404, 404, 404, 404, 404, 404), label="missing"),
    Case("report:create", "post", lambda g: "/api/v1/reports/", LAB_ONLY_CREATE, writes=1,
         body=new_report_body, attrs={"admin": "lab"}),
    Case("report:prepare", "post", lambda g: report_url(g, "draft", "prepare/"), DRAFT_ACTORS,
         body=lambda g: {"key_id": g["own_key"].key_id}),
    Case("report:prepare", "post", lambda g: report_url(g, suffix="prepare/"),
         S(401, 400, 403, 403, 404, 404, 403, 400, 404), label="issued",
         body=lambda g: {"key_id": g["own_key"].key_id},
         attrs={"admin": "status", "lab": "status"}),
    Case("report:sign", "post", lambda g: report_url(g, "draft", "sign/"),
         S(401, 400, 404, 404, 404, 404, 404, 400, 404), body=lambda g: {"signature": "00" * 64},
         attrs={"admin": "signature", "lab": "signature"}),
    Case("report:issue", "post", lambda g: report_url(g, "draft", "issue/"), DRAFT_ACTORS,
         writes=1),
    Case("report:revoke", "post", lambda g: report_url(g, suffix="revoke/"),
         S(401, 200, 200, 200, 404, 404, 403, 200, 404), writes=1,
         body=lambda g: {"reason": "检测数据录入错误，报告作废"}),
    Case("report:revoke", "post", lambda g: report_url(g, "bj", "revoke/"),
         S(401, 200, 200, 404, 200, 404, 403, 404, 403), writes=1, label="baoji",
         body=lambda g: {"reason": "检测数据录入错误，报告作废"}),
    Case("report:pdf", "get", lambda g: report_url(g, suffix="pdf/"), XA_VISIBLE),
    Case("report:pdf", "get", lambda g: report_url(g, "draft", "pdf/"),
         S(401, 404, 404, 404, 404, 404, 404, 404, 404), label="draft-without-pdf"),
    # --- signing keys ----------------------------------------------------------------------
    Case("lab-key:list", "get", lambda g: "/api/v1/lab-keys/",
         key=lambda r: (r["lab_name"], r["custody"]),
         expect=L(None, {(WLAB, "lab"), (WLAB, "platform"), (BLAB, "platform")},
                  {(WLAB, "lab"), (WLAB, "platform"), (BLAB, "platform")},
                  {(WLAB, "lab"), (WLAB, "platform")}, {(BLAB, "platform")},
                  {(WLAB, "lab"), (WLAB, "platform")}, NONE,
                  {(WLAB, "lab"), (WLAB, "platform")}, NONE)),
    Case("lab-key:retrieve", "get", lambda g: f"/api/v1/lab-keys/{g['own_key'].key_id}/",
         LAB_THING),
    Case("lab-key:create", "post", lambda g: "/api/v1/lab-keys/", LAB_ONLY_CREATE, writes=1,
         body=lambda g: {"public_key": lab_key_pair()[1]}, attrs={"admin": "lab"}),
    Case("lab-key:generate", "post", lambda g: "/api/v1/lab-keys/generate/", LAB_ONLY_CREATE,
         writes=1, attrs={"admin": "lab"}),
    Case("lab-key:retire", "post", lambda g: f"/api/v1/lab-keys/{g['own_key'].key_id}/retire/",
         LAB_THING_WRITE, writes=1, body=lambda g: {"reason": "密钥轮换"}),
    # --- instruments -----------------------------------------------------------------------
    Case("instrument:list", "get", lambda g: "/api/v1/instruments/", key=lab_name,
         expect=L(None, {WLAB, BLAB}, {WLAB, BLAB}, {WLAB}, {BLAB}, {WLAB}, NONE, {WLAB},
                  NONE)),
    Case("instrument:retrieve", "get", lambda g: f"/api/v1/instruments/{g['instrument'].pk}/",
         LAB_THING),
    Case("instrument:create", "post", lambda g: "/api/v1/instruments/", LAB_ONLY_CREATE,
         writes=1, body=lambda g: {"name": "数字测厚仪", "model": "CH-2", "serial_number": "SN-T-9"},
         attrs={"admin": "lab"}),
    Case("instrument:calibrations", "post",
         lambda g: f"/api/v1/instruments/{g['instrument'].pk}/calibrations/",
         {**LAB_THING_WRITE, "admin": 201, "lab": 201}, writes=1,
         body=lambda g: {"certificate_number": "JZ-2026-77", "calibrated_by": "陕西省计量科学研究院",
                         "calibrated_on": "2026-01-05", "valid_until": "2027-01-04"}),
    # --- hazard reports --------------------------------------------------------------------
    Case("hazard-report:list", "get", lambda g: "/api/v1/hazard-reports/", key=entity_name,
         expect=L(None, {XE, BE}, {XE, BE}, {XE}, {BE}, NONE, NONE, {XE, BE}, NONE)),
    Case("hazard-report:retrieve", "get",
         lambda g: f"/api/v1/hazard-reports/{g['h_xian'].pk}/",
         S(401, 200, 200, 200, 404, 404, 404, 200, 404)),
    Case("hazard-report:create", "post", lambda g: "/api/v1/hazard-reports/",
         S(401, 403, 403, 403, 403, 403, 403, 201, 403), writes=1,
         body=lambda g: {"report": g["xa"].pk, "description": "绝缘层有贯穿性缺陷"}),
    Case("hazard-report:acknowledge", "post",
         lambda g: f"/api/v1/hazard-reports/{g['h_xian'].pk}/acknowledge/",
         S(401, 403, 403, 200, 404, 404, 404, 403, 404), writes=1),
]


@pytest.mark.parametrize(
    ("case", "who"),
    [pytest.param(c, p, id=f"{c.id}-{p}") for c in CASES for p in PERSONAS],
)
def test_matrix(case, who, rgrid, persona, api):
    check_case(case, who, rgrid, persona(who), api, fingerprint)


def test_prepare_writes_no_audit_entry_until_signed(rgrid, lab_user, api):
    """Preparing fixes the issue date, key and PDF of the draft (no audit entry: nothing
    is issued yet); the issue is audited when the signature is accepted."""
    api.force_authenticate(lab_user)
    before = AuditEntry.objects.count()
    resp = api.post(report_url(rgrid, "draft", "prepare/"), {"key_id": rgrid["own_key"].key_id},
                    format="json")
    assert resp.status_code == 200
    assert AuditEntry.objects.count() == before


def _routed_actions() -> set[str]:
    found = set()
    for _prefix, viewset, basename in router.registry:
        for route in router.get_routes(viewset):
            for method, action in route.mapping.items():
                if hasattr(viewset, action) and method != "options":
                    found.add(f"{basename}:{action}")
    return found


def test_every_endpoint_is_in_the_matrix():
    assert _routed_actions() == {c.action for c in CASES}


def test_put_patch_and_delete_are_not_offered(rgrid, admin_user, api):
    api.force_authenticate(admin_user)
    before = fingerprint()
    for method, url in [("put", report_url(rgrid, "draft")), ("patch", report_url(rgrid, "draft")),
                        ("delete", report_url(rgrid, "draft")),
                        ("delete", f"/api/v1/lab-keys/{rgrid['own_key'].key_id}/"),
                        ("patch", f"/api/v1/instruments/{rgrid['instrument'].pk}/"),
                        ("delete", f"/api/v1/hazard-reports/{rgrid['h_xian'].pk}/"),
                        ("post", report_url(rgrid, suffix="pdf/"))]:
        resp = getattr(api, method)(url, {}, format="json")
        assert resp.status_code == 405, (method, url)
        assert resp.json()["errors"][0]["code"] == "method_not_allowed"
    assert fingerprint() == before


@pytest.mark.parametrize("suffix", ["", "prepare/", "sign/", "issue/", "revoke/", "pdf/"])
def test_a_report_not_yours_is_indistinguishable_from_absent(suffix, rgrid, baoji_officer, api):
    api.force_authenticate(baoji_officer)
    before = fingerprint()
    method = api.post if suffix not in ("", "pdf/") else api.get
    theirs = method(report_url(rgrid, "draft", suffix))
    absent = method(f"/api/v1/reports/{MISSING}/{suffix}")
    assert theirs.status_code == absent.status_code == 404
    assert theirs.content == absent.content
    assert fingerprint() == before


def errors(resp) -> list[tuple[str | None, str]]:
    return [(e["attr"], e["detail"]) for e in resp.json()["errors"]]


def test_service_refusals_are_403_with_their_message(rgrid, xian_officer, enterprise_user, api):
    before = fingerprint()
    api.force_authenticate(xian_officer)
    resp = api.post(report_url(rgrid, suffix="prepare/"), {}, format="json",
                    HTTP_ACCEPT_LANGUAGE="en")
    assert resp.status_code == 403
    assert errors(resp) == [(None, "Only the laboratory's own users may do this.")]
    resp = api.post(f"/api/v1/hazard-reports/{rgrid['h_baoji'].pk}/acknowledge/",
                    HTTP_ACCEPT_LANGUAGE="en")
    assert resp.status_code == 404
    api.force_authenticate(enterprise_user)
    resp = api.post(report_url(rgrid, suffix="revoke/"), {"reason": "企业认为报告有误"},
                    format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert errors(resp) == [(None, "Only the issuing laboratory or a regulator responsible for "
                                   "it may revoke a report.")]
    assert fingerprint() == before


# --- reads --------------------------------------------------------------------------------------

def test_a_report_reads_with_items_instruments_and_verification(rgrid, xian_officer, api):
    api.force_authenticate(xian_officer)
    resp = api.get(report_url(rgrid), HTTP_ACCEPT_LANGUAGE="en")
    data = resp.json()
    xa, instrument = rgrid["xa"], rgrid["instrument"]
    cal = instrument.calibrations.get()
    assert {k: data[k] for k in ("number", "lab_name", "kind", "status", "sample", "category",
                                 "batch", "quantity_covered", "unit", "standard", "conclusion",
                                 "supersedes", "superseded_by", "key_id", "custody",
                                 "revocation")} == {
        "number": XA, "lab_name": WLAB, "kind": "commissioned", "status": "issued",
        "sample": None, "category": "electrical.cable", "batch": "B2026-11",
        "quantity_covered": "1000.000", "unit": "m", "standard": "GB/T 5023.3-2008",
        "conclusion": "pass", "supersedes": None, "superseded_by": None,
        "key_id": rgrid["platform_key"].key_id, "custody": "platform", "revocation": None}
    assert data["producer"] == {"id": rgrid["xian_entity"].pk, "uscc": rgrid["xian_entity"].uscc,
                                "name": XE, "division": "610113"}
    assert data["items"] == [{"position": i, **item} for i, item in enumerate(DEFAULT_ITEMS, 1)]
    assert data["instruments"] == [{
        "id": instrument.pk, "name": instrument.name, "model": "ZX-1",
        "serial_number": instrument.serial_number,
        "calibrations": [{"id": cal.pk, "certificate_number": cal.certificate_number,
                          "calibrated_by": "陕西省计量科学研究院",
                          "calibrated_on": str(cal.calibrated_on),
                          "valid_until": str(cal.valid_until)}]}]
    assert data["pdf_url"] == f"http://testserver/api/v1/reports/{xa.pk}/pdf/"
    v = data["verification"]
    assert (v["found"], v["genuine"], v["valid"], v["custody"]) == (True, True, True, "platform")
    assert v["custody_note"] == ("The signing key is held by the platform on the laboratory's "
                                 "behalf, not by the laboratory itself.")
    assert [c["key"] for c in v["checks"] if c["ok"]] == [
        "found", "signature", "accreditation", "lab_status", "calibration", "revocation",
        "superseded"]


def test_the_pdf_is_the_signed_one(rgrid, enterprise_user, api):
    import hashlib

    api.force_authenticate(enterprise_user)
    resp = api.get(report_url(rgrid, suffix="pdf/"))
    assert resp["Content-Type"] == "application/pdf"
    body = b"".join(resp.streaming_content)
    assert hashlib.sha256(body).hexdigest() == rgrid["xa"].pdf_sha256


def test_report_search_filters(rgrid, admin_user, api):
    api.force_authenticate(admin_user)

    def numbers(query):
        return {r["number"] for r in rows_of(api.get(f"/api/v1/reports/?{query}").json())}

    assert numbers("q=XA-") == {XA, SUP, DRAFT}
    assert numbers("q=宝鸡测试") == {BJ}
    assert numbers(f"producer={rgrid['xian_entity'].uscc}") == {XA, SUP, DRAFT}
    assert numbers("status=draft") == {DRAFT}
    assert numbers("kind=supervisory") == {SUP}
    assert numbers(f"lab={rgrid['baoji_lab'].pk}") == {BJ}


def test_list_queries_do_not_grow_with_the_rows(rgrid, admin_user, lab_user, api):
    api.force_authenticate(admin_user)

    def count(url):
        with CaptureQueriesContext(connection) as ctx:
            assert api.get(url).status_code == 200
        return len(ctx)

    first = {url: count(url) for url in ("/api/v1/reports/", "/api/v1/lab-keys/",
                                         "/api/v1/instruments/", "/api/v1/hazard-reports/")}
    for n in range(3):
        r = draft(lab=rgrid["lab"], actor=lab_user, producer=rgrid["xian_entity"],
                  category=rgrid["categories"]["cable"], standard=rgrid["cable_std"],
                  instrument=rgrid["instrument"], number=f"XA-MORE-{n}")
        services.report_issue(actor=lab_user, report_id=r.pk)
        services.instrument_add(actor=lab_user, data={"name": "测厚仪", "serial_number": f"M-{n}"})
        services.key_register(actor=lab_user, public_key_hex=lab_key_pair()[1])
        hazards.hazard_report(actor=lab_user, report_id=r.pk, description="绝缘层破损")
    assert {url: count(url) for url in first} == first


def test_the_schema_describes_the_endpoints(tmp_path, capsys):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--file", str(out))
    # Other modules' warnings are theirs; none may come from this one.
    assert "reports/api.py" not in capsys.readouterr().err
    text = out.read_text()
    for path in ["/api/v1/reports/", "/api/v1/reports/{id}/", "/api/v1/reports/{id}/prepare/",
                 "/api/v1/reports/{id}/sign/", "/api/v1/reports/{id}/issue/",
                 "/api/v1/reports/{id}/revoke/", "/api/v1/reports/{id}/pdf/",
                 "/api/v1/lab-keys/", "/api/v1/lab-keys/{key_id}/",
                 "/api/v1/lab-keys/generate/", "/api/v1/lab-keys/{key_id}/retire/",
                 "/api/v1/instruments/", "/api/v1/instruments/{id}/",
                 "/api/v1/instruments/{id}/calibrations/", "/api/v1/hazard-reports/",
                 "/api/v1/hazard-reports/{id}/", "/api/v1/hazard-reports/{id}/acknowledge/"]:
        assert f"  {path}:" in text, path
    for enum in ["ReportKindEnum:", "ReportStatusEnum:", "VerdictEnum:", "ConclusionEnum:",
                 "KeyCustodyEnum:", "HazardStatusEnum:"]:
        assert f"    {enum}" in text, enum


# --- writes ----------------------------------------------------------------------------------

def test_draft_prepare_sign_with_the_labs_own_key(rgrid, lab_user, api):
    api.force_authenticate(lab_user)
    resp = api.post("/api/v1/reports/", new_report_body(rgrid), format="json")
    assert resp.status_code == 201
    created = resp.json()
    assert (created["status"], created["verification"], created["pdf_url"]) == ("draft", None,
                                                                               None)
    url = f"/api/v1/reports/{created['id']}/"
    key_id = rgrid["own_key"].key_id
    prepared = api.post(url + "prepare/", {"key_id": key_id}, format="json").json()
    report = Report.objects.get(pk=created["id"])
    assert prepared == {"payload": report.payload, "key_id": key_id,
                        "pdf_sha256": report.pdf_sha256}
    signature = rgrid["private"].sign(prepared["payload"].encode("utf-8")).hex()
    resp = api.post(url + "sign/", {"signature": signature}, format="json")
    assert resp.status_code == 200
    data = resp.json()
    assert (data["status"], data["custody"], data["key_id"], data["signature"]) == (
        "issued", "lab", key_id, signature)
    assert (data["verification"]["genuine"], data["verification"]["valid"],
            data["verification"]["custody_note"]) == (True, True, "")


def test_a_wrong_signature_is_refused(rgrid, lab_user, api):
    api.force_authenticate(lab_user)
    url = report_url(rgrid, "draft")
    key_id = rgrid["own_key"].key_id
    payload = api.post(url + "prepare/", {"key_id": key_id}, format="json").json()["payload"]
    before = fingerprint()
    other = Ed25519PrivateKey.generate().sign(payload.encode("utf-8")).hex()
    resp = api.post(url + "sign/", {"signature": other}, format="json",
                    HTTP_ACCEPT_LANGUAGE="en")
    assert resp.status_code == 400
    assert errors(resp) == [("signature", f"The signature does not verify with key {key_id} "
                                          "over the prepared payload; sign exactly the payload "
                                          "you were given, with that key.")]
    assert fingerprint() == before


def test_bad_report_input_names_the_fields(rgrid, lab_user, api):
    api.force_authenticate(lab_user)
    before = fingerprint()
    body = new_report_body(rgrid) | {"number": XA, "conclusion": "pass",
                                     "items": [DEFAULT_ITEMS[0] | {"verdict": "fail"}],
                                     "instruments": [rgrid["baoji_instrument"].pk]}
    resp = api.post("/api/v1/reports/", body, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert resp.status_code == 400
    assert sorted(errors(resp)) == [
        ("conclusion", "An item failed, so the conclusion cannot be conforming."),
        ("instruments", "Use only this laboratory's registered instruments."),
        ("number", "A report with this number already exists."),
    ]
    body = new_report_body(rgrid) | {"category": None, "product_name": "", "standard": "GB 0",
                                     "tested_to": "2026-02-30",
                                     "items": [{"parameter": "导体电阻", "verdict": "maybe"}]}
    resp = api.post("/api/v1/reports/", body, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert sorted(a for a, _ in errors(resp)) == [
        "items.0.measured", "items.0.requirement", "items.0.verdict", "standard", "tested_to"]
    body = new_report_body(rgrid) | {"category": None, "product_name": " "}
    resp = api.post("/api/v1/reports/", body, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert sorted(errors(resp)) == [
        ("category", "Choose the product category (or name the sample)."),
        ("product_name", "Give the product name (or name the sample).")]
    assert fingerprint() == before


def test_bad_key_instrument_and_hazard_input(rgrid, lab_user, api):
    api.force_authenticate(lab_user)
    before = fingerprint()
    resp = api.post("/api/v1/lab-keys/", {"public_key": "abc"}, format="json",
                    HTTP_ACCEPT_LANGUAGE="en")
    assert errors(resp) == [("public_key", "Give the raw Ed25519 public key: 32 bytes as 64 "
                                           "hexadecimal digits.")]
    resp = api.post("/api/v1/lab-keys/", {"public_key": rgrid["own_key"].public_key},
                    format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert errors(resp) == [("public_key", "This key is already registered.")]
    resp = api.post("/api/v1/instruments/", {"name": "测厚仪",
                                             "serial_number": rgrid["instrument"].serial_number},
                    format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert errors(resp) == [("serial_number", "The laboratory already has an instrument with "
                                              "this serial number.")]
    resp = api.post(f"/api/v1/instruments/{rgrid['instrument'].pk}/calibrations/",
                    {"certificate_number": "JZ-1", "calibrated_by": "省计量院",
                     "calibrated_on": "2026-05-01", "valid_until": "2026-04-30"},
                    format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert errors(resp) == [("valid_until", "The validity must end on or after the "
                                            "calibration date.")]
    resp = api.post("/api/v1/hazard-reports/", {"report": rgrid["bj"].pk, "description": "x"},
                    format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert errors(resp) == [("report", "Your laboratory has no report with this id; choose "
                                       "one of your own reports.")]
    resp = api.post("/api/v1/hazard-reports/", {"description": "发现问题"}, format="json",
                    HTTP_ACCEPT_LANGUAGE="en")
    assert errors(resp) == [("entity", "Name the market entity whose product has the hazard."),
                            ("category", "Choose the product category.")]
    assert fingerprint() == before


def test_a_hazard_without_a_report_names_entity_and_category(rgrid, lab_user, api):
    api.force_authenticate(lab_user)
    resp = api.post("/api/v1/hazard-reports/",
                    {"entity": rgrid["baoji_entity"].uscc, "category": "building.steel",
                     "description": "钢筋屈服强度远低于标准值"}, format="json")
    assert resp.status_code == 201
    data = resp.json()
    assert (data["report"], data["entity"]["name"], data["category"], data["department"],
            data["department_name"], data["status"]) == (
        None, BE, "building.steel", rgrid["departments"]["baoji"].pk, "宝鸡市市场监督管理局",
        "open")


def test_revoking_shows_the_signed_revocation(rgrid, xian_officer, api):
    api.force_authenticate(xian_officer)
    resp = api.post(report_url(rgrid, suffix="revoke/"), {"reason": "检测数据录入错误"},
                    format="json", HTTP_ACCEPT_LANGUAGE="en")
    data = resp.json()
    revocation = Revocation.objects.get(report=rgrid["xa"])
    assert data["status"] == "revoked"
    assert data["revocation"]["reason"] == "检测数据录入错误"
    assert (data["revocation"]["statement"], data["revocation"]["signature"]) == (
        revocation.statement, revocation.signature)
    assert data["verification"]["valid"] is False
    assert data["verification"]["checks"][-2]["message"] == ("The report was revoked: "
                                                             "检测数据录入错误")
    again = api.post(report_url(rgrid, suffix="revoke/"), {"reason": "再次撤销"}, format="json",
                     HTTP_ACCEPT_LANGUAGE="en")
    assert errors(again) == [("status", "Only an issued, current report can be revoked.")]
