"""Report services: drafting refusals, issuing with platform-held and lab-held keys,
verification of every check, revocation, supersession and key rotation."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.exceptions import ValidationError

from tests import factories as f
from tests.reports.helpers import DEFAULT_ITEMS, issue_report, ready_lab
from zhijian.core import signing
from zhijian.core.access import Denied
from zhijian.core.models import OutboxEvent, PublicKey
from zhijian.registry.models import AccreditationScope
from zhijian.reports import services
from zhijian.reports.models import Calibration, LabKey, Report

TODAY = dt.date(2026, 11, 20)


@pytest.fixture(autouse=True)
def _english():
    """Messages are compared in English (the source language)."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def standard(world):
    std = f.StandardFactory(code="GB/T 5023.3-2008", title="额定电压450/750V及以下聚氯乙烯绝缘电缆")
    std.categories.set([world["categories"]["cable"]])
    return std


@pytest.fixture
def issued(world, standard):
    return issue_report(lab=world["lab"], producer=world["xian_entity"],
                        category=world["categories"]["cable"], standard=standard,
                        batch="2026-11-A", issued_on=TODAY)


def draft_data(world, standard, **over):
    data = {"number": "JC2026-0001", "kind": "commissioned", "sample": None,
            "producer": world["xian_entity"], "category": world["categories"]["cable"],
            "product_name": "电缆", "model": "BV 2.5", "batch": "A1",
            "quantity_covered": Decimal("500"), "unit": "m", "standard": standard,
            "received_on": TODAY - dt.timedelta(days=5),
            "tested_from": TODAY - dt.timedelta(days=4),
            "tested_to": TODAY - dt.timedelta(days=2), "conclusion": "pass",
            "authorised_by": "王工"}
    data.update(over)
    return data


def test_an_issued_report_verifies_on_every_check(issued):
    v = services.report_verify(issued.number)
    assert [(c.key, c.ok) for c in v.checks] == [
        ("found", True), ("signature", True), ("accreditation", True), ("lab_status", True),
        ("calibration", True), ("revocation", True), ("superseded", True)]
    assert (v.found, v.genuine, v.valid, v.custody) == (True, True, True, "platform")
    stored = v.as_dict()
    assert stored["custody_note"] == str(services.CUSTODY_NOTE)
    assert stored["checks"][1]["code"] == "signature_valid"
    # The signed payload names the PDF's digest, and the stored PDF has it.
    payload = json.loads(issued.payload)
    with issued.pdf.open("rb") as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == payload["pdf_sha256"] == issued.pdf_sha256
    assert payload["report"]["number"] == issued.number
    assert payload["report"]["issued_on"] == TODAY.isoformat()
    assert (payload["kid"], payload["alg"], payload["custody"]) == (issued.key.key_id, "ed25519",
                                                                    "platform")


def test_issuing_publishes_events_and_a_failed_result_its_own(world, standard):
    before = OutboxEvent.objects.count()
    report = issue_report(lab=world["lab"], producer=world["xian_entity"],
                          category=world["categories"]["cable"], standard=standard,
                          conclusion="fail", issued_on=TODAY)
    names = list(OutboxEvent.objects.order_by("id")[before:].values_list("name", flat=True))
    assert [n for n in names if n.startswith("report.")] == ["report.issued",
                                                             "report.nonconforming"]
    event = OutboxEvent.objects.get(name="report.nonconforming", aggregate_id=str(report.pk))
    assert event.payload == {"report": report.pk, "number": report.number,
                             "lab": world["lab"].pk, "kind": "commissioned", "sample": None,
                             "producer": world["xian_entity"].pk, "category": "electrical.cable",
                             "batch": "B1", "conclusion": "fail"}


def test_a_changed_payload_fails_the_signature(issued):
    Report.objects.filter(pk=issued.pk).update(payload=issued.payload.replace("2026-11-A",
                                                                              "2026-11-B"))
    v = services.report_verify(issued.number)
    assert (v.genuine, v.valid) == (False, False)
    assert v.checks[1].code == "signature_invalid"


def test_a_changed_record_is_not_genuine_though_the_signature_holds(issued):
    Report.objects.filter(pk=issued.pk).update(quantity_covered=Decimal("99999"))
    v = services.report_verify(issued.number)
    assert v.checks[1].code == "data_changed"
    assert v.checks[1].params == {"fields": ["quantity_covered"]}
    assert v.genuine is False


def test_unknown_and_draft_numbers_are_not_found(world, standard, lab_user):
    ready_lab(world["lab"], standard, day=TODAY)
    instrument = world["lab"].instruments.get()
    draft = services.report_draft(actor=lab_user, data=draft_data(world, standard),
                                  items=DEFAULT_ITEMS, instrument_ids=[instrument.pk], today=TODAY)
    for number in ("NOPE-1", draft.number):
        v = services.report_verify(number)
        assert [(c.key, c.ok, c.code) for c in v.checks] == [("found", False, "not_found")]
        assert (v.found, v.genuine, v.valid) == (False, False, False)


def test_accreditation_is_judged_on_the_issue_day(issued, world, standard):
    line = AccreditationScope.objects.get(lab=world["lab"], standard=standard)
    # Ending the scope after the issue day does not touch the report ...
    line.valid_to = TODAY
    line.save()
    assert services.report_verify(issued.number).valid
    # ... a scope that did not yet cover the issue day does.
    line.valid_from = TODAY + dt.timedelta(days=1)
    line.valid_to = None
    line.save()
    v = services.report_verify(issued.number)
    assert v.checks[2].code == "standard_not_in_scope"
    assert v.genuine and not v.valid


def test_a_parameter_outside_a_narrow_scope_is_named(issued, world, standard):
    AccreditationScope.objects.filter(lab=world["lab"]).update(parameter="导体电阻")
    v = services.report_verify(issued.number)
    assert v.checks[2].code == "parameters_not_in_scope"
    assert v.checks[2].params["parameters"] == ["绝缘厚度"]


def test_a_suspended_lab_and_a_lapsed_calibration_make_the_report_invalid(issued, world):
    world["lab"].status = "suspended"
    world["lab"].save()
    Calibration.objects.update(valid_until=TODAY - dt.timedelta(days=3))
    v = services.report_verify(issued.number)
    by_key = {c.key: c for c in v.checks}
    assert by_key["lab_status"].code == "lab_not_active"
    assert by_key["calibration"].params == {"instruments": [f"SN-{world['lab'].pk}-1"]}
    assert "暂停" in services.check_message(by_key["lab_status"]) or "suspended" in \
        services.check_message(by_key["lab_status"]).lower()


def test_revocation_is_a_signed_public_statement(issued, world, lab_user):
    revocation = services.report_revoke(actor=lab_user, report_id=issued.pk,
                                        reason="样品编号录入错误")
    v = services.report_verify(issued.number)
    assert v.checks[5].code == "revoked" and v.checks[5].params == {"reason": "样品编号录入错误"}
    assert v.genuine and not v.valid
    statement = json.loads(revocation.statement)
    assert statement["payload_sha256"] == hashlib.sha256(issued.payload.encode()).hexdigest()
    key = PublicKey.objects.get(key_id=revocation.key_id)
    assert signing.verify_with_public(key.public_key, revocation.statement.encode(),
                                      revocation.signature)
    with pytest.raises(ValidationError) as exc:
        services.report_revoke(actor=lab_user, report_id=issued.pk, reason="again")
    assert exc.value.message_dict == {"status": ["Only an issued, current report can be revoked."]}


def test_revocation_needs_a_reason_and_the_right_actor(issued, baoji_officer, xian_officer):
    with pytest.raises(Denied):
        services.report_revoke(actor=baoji_officer, report_id=issued.pk, reason="x")
    with pytest.raises(ValidationError) as exc:
        services.report_revoke(actor=xian_officer, report_id=issued.pk, reason=" ")
    assert list(exc.value.message_dict) == ["reason"]
    issued.refresh_from_db()
    assert issued.status == "issued"


def test_a_replacement_supersedes_the_old_report(issued, world, standard):
    newer = issue_report(lab=world["lab"], producer=world["xian_entity"],
                         category=world["categories"]["cable"], standard=standard,
                         batch="2026-11-A", issued_on=TODAY, supersedes=issued)
    v = services.report_verify(issued.number)
    assert v.checks[6].code == "superseded" and v.checks[6].params == {"by": newer.number}
    assert services.report_verify(newer.number).valid
    assert json.loads(newer.payload)["report"]["supersedes"] == issued.number


def test_a_lab_held_key_signs_outside_the_platform(world, standard, lab_user):
    ready_lab(world["lab"], standard, day=TODAY)
    private = Ed25519PrivateKey.generate()
    public_hex = private.public_key().public_bytes(serialization.Encoding.Raw,
                                                   serialization.PublicFormat.Raw).hex()
    key = services.key_register(actor=lab_user, public_key_hex=public_hex)
    assert key.custody == "lab"
    draft = services.report_draft(actor=lab_user, data=draft_data(world, standard),
                                  items=DEFAULT_ITEMS,
                                  instrument_ids=[world["lab"].instruments.get().pk], today=TODAY)
    payload = services.report_prepare(actor=lab_user, report_id=draft.pk, key_id=key.key_id,
                                      today=TODAY)
    # A signature by another key is refused and nothing changes.
    stranger = Ed25519PrivateKey.generate().sign(payload.encode()).hex()
    with pytest.raises(ValidationError) as exc:
        services.report_sign(actor=lab_user, report_id=draft.pk, signature_hex=stranger)
    assert list(exc.value.message_dict) == ["signature"]
    draft.refresh_from_db()
    assert (draft.status, draft.signature) == ("draft", "")
    report = services.report_sign(actor=lab_user, report_id=draft.pk,
                                  signature_hex=private.sign(payload.encode()).hex())
    v = services.report_verify(report.number)
    assert v.valid and v.custody == "lab" and v.as_dict()["custody_note"] == ""


def test_a_key_that_is_not_ed25519_hex_is_refused(lab_user):
    for bad in ("abc", "00" * 31, "zz" * 32):
        with pytest.raises(ValidationError) as exc:
            services.key_register(actor=lab_user, public_key_hex=bad)
        assert list(exc.value.message_dict) == ["public_key"]
    assert not LabKey.objects.exists()


def test_key_rotation_keeps_old_reports_valid(issued, world, lab_user, standard):
    services.key_retire(actor=lab_user, key_id=issued.key.key_id, reason="annual rotation")
    services.key_generate_custodial(actor=lab_user)
    later = issue_report(lab=world["lab"], producer=world["xian_entity"],
                         category=world["categories"]["cable"], standard=standard,
                         issued_on=TODAY)
    assert later.key_id != issued.key_id
    assert services.report_verify(issued.number).valid
    assert services.report_verify(later.number).valid


@pytest.mark.parametrize(("over", "items", "field", "message"), [
    ({"number": "x"}, None, "number", "The report number must be 3–40 letters, digits, '-', "
     "'_' or '.', starting with a letter or digit."),
    ({"tested_from": TODAY - dt.timedelta(days=6)}, None, "tested_from",
     "Testing cannot start before the sample was received."),
    ({"conclusion": "pass"}, [dict(DEFAULT_ITEMS[0], verdict="fail")], "conclusion",
     "An item failed, so the conclusion cannot be conforming."),
    ({"quantity_covered": Decimal("0")}, None, "quantity_covered",
     "Give the quantity the report covers (more than zero)."),
    ({"kind": "supervisory"}, None, "sample", "A supervisory report must name its sample."),
])
def test_draft_refusals_name_the_field(world, standard, lab_user, over, items, field, message):
    ready_lab(world["lab"], standard, day=TODAY)
    with pytest.raises(ValidationError) as exc:
        services.report_draft(actor=lab_user, data=draft_data(world, standard, **over),
                              items=items or DEFAULT_ITEMS,
                              instrument_ids=[world["lab"].instruments.get().pk], today=TODAY)
    assert exc.value.message_dict[field] == [message]
    assert not Report.objects.exists()


def test_a_standard_outside_the_scope_is_refused(world, standard, lab_user):
    ready_lab(world["lab"], standard, day=TODAY)
    other = f.StandardFactory(code="GB/T 1499.2-2018", title="钢筋混凝土用钢")
    with pytest.raises(ValidationError) as exc:
        services.report_draft(actor=lab_user, data=draft_data(world, other), items=DEFAULT_ITEMS,
                              instrument_ids=[world["lab"].instruments.get().pk], today=TODAY)
    assert exc.value.message_dict["standard"] == [
        "The laboratory's accredited scope does not include GB/T 1499.2-2018 on 2026-11-20."]


def test_an_instrument_out_of_calibration_is_refused(world, standard, lab_user):
    ready_lab(world["lab"], standard, day=TODAY)
    Calibration.objects.update(valid_until=TODAY - dt.timedelta(days=3))
    with pytest.raises(ValidationError) as exc:
        services.report_draft(actor=lab_user, data=draft_data(world, standard),
                              items=DEFAULT_ITEMS,
                              instrument_ids=[world["lab"].instruments.get().pk], today=TODAY)
    assert exc.value.message_dict["instruments"] == [
        f"These instruments were not within calibration for the whole test: "
        f"SN-{world['lab'].pk}-1."]


def test_only_the_lab_drafts_its_reports(world, standard, xian_officer, enterprise_user):
    ready_lab(world["lab"], standard, day=TODAY)
    for actor in (xian_officer, enterprise_user):
        with pytest.raises(Denied):
            services.report_draft(actor=actor, data=draft_data(world, standard),
                                  items=DEFAULT_ITEMS, instrument_ids=[], today=TODAY)
    assert not Report.objects.exists()


def test_a_suspended_lab_cannot_issue(world, standard, lab_user):
    ready_lab(world["lab"], standard, day=TODAY)
    draft = services.report_draft(actor=lab_user, data=draft_data(world, standard),
                                  items=DEFAULT_ITEMS,
                                  instrument_ids=[world["lab"].instruments.get().pk], today=TODAY)
    world["lab"].status = "suspended"
    world["lab"].save()
    with pytest.raises(ValidationError) as exc:
        services.report_issue(actor=lab_user, report_id=draft.pk, today=TODAY)
    assert list(exc.value.message_dict) == ["lab"]
    draft.refresh_from_db()
    assert (draft.status, draft.payload, draft.pdf_sha256) == ("draft", "", "")


def test_bulk_verification_uses_a_fixed_number_of_queries(world, standard,
                                                         django_assert_max_num_queries):
    numbers = [issue_report(lab=world["lab"], producer=world["xian_entity"],
                            category=world["categories"]["cable"], standard=standard,
                            batch=f"B{i}", issued_on=TODAY).number for i in range(6)]
    with django_assert_max_num_queries(4):
        result = services.reports_verify([*numbers, "MISSING-1"])
    assert [result[n].valid for n in numbers] == [True] * 6
    assert result["MISSING-1"].found is False


def test_verify_many_gives_what_reports_verify_gives(world, standard):
    numbers = [issue_report(lab=world["lab"], producer=world["xian_entity"],
                            category=world["categories"]["cable"], standard=standard,
                            batch=f"M{i}", issued_on=TODAY).number for i in range(5)]
    Report.objects.filter(number=numbers[2]).update(batch="CHANGED")
    asked = [*numbers, "MISSING-9", numbers[0]]
    many = list(services.reports_verify_many(asked, chunk=2))
    assert [v.number for v in many] == [*numbers, "MISSING-9"]
    one = services.reports_verify(asked)
    assert [(v.checks, v.custody) for v in many] == [
        (one[v.number].checks, one[v.number].custody) for v in many]
    assert [v.valid for v in many] == [True, True, False, True, True, False]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_verify_many_spreads_chunks_over_processes_on_postgresql(request):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("worker processes read committed rows over their own connections: "
                    "PostgreSQL only")
    world = request.getfixturevalue("world")
    std = f.StandardFactory(code="GB/T 5023.3-2008", title="电缆")
    numbers = [issue_report(lab=world["lab"], producer=world["xian_entity"],
                            category=world["categories"]["cable"], standard=std,
                            batch=f"P{i}", issued_on=TODAY).number for i in range(6)]
    Report.objects.filter(number=numbers[4]).update(quantity_covered=Decimal("1"))
    many = list(services.reports_verify_many(numbers, workers=2, chunk=2))
    assert [(v.number, v.genuine) for v in many] == [
        (n, i != 4) for i, n in enumerate(numbers)]
    assert many[4].checks[1].code == "data_changed"
