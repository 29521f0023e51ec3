"""The demo province: structure, matrix gaps, personas, audit, determinism, tokens.

The province (with 300 entities) is built once per module inside a transaction that is
rolled back at the end, so the build is shared by the tests and leaves nothing behind;
each test runs in its own savepoint.
"""

import collections
import hashlib
import io
import itertools
import os
import sqlite3
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from zhijian.accounts.models import User
from zhijian.core import audit
from zhijian.core.identifiers import parse_uscc, validate_uscc
from zhijian.core.models import AuditEntry, Division
from zhijian.demo import build, inspections, plan, quality
from zhijian.demo.generate import entity_rows, leaf_codes
from zhijian.inspections import draw
from zhijian.inspections.models import Draw, InspectionPlan, Task, TaskMember
from zhijian.registry.api import matrix_report
from zhijian.registry.models import (
    AccreditationScope,
    Department,
    Lab,
    MarketEntity,
    Product,
    Responsibility,
    UserUnit,
)

SEED = 2017
N = 300


# The database the settings name before pytest-django swaps in the test database.
REAL_DATABASE = settings.DATABASES["default"]["NAME"]


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """Request it only from tests that use `db` too: pytest-django sets up the test
    database only when such tests run."""
    with django_db_blocker.unblock():
        assert connection.settings_dict["NAME"] != REAL_DATABASE, "not the test database"
        outer = transaction.atomic()
        outer.__enter__()
        try:
            build.province_build(seed=SEED)
            created = build.entities_build(seed=SEED, count=N)
            inspected = inspections.inspections_build(seed=SEED)
            built = quality.quality_build(seed=SEED)
            yield {"created": created, "inspections": inspected, "quality": built}
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def _digest(rows) -> str:
    h = hashlib.sha256()
    for uscc, name in sorted((r["uscc"], r["name"]) for r in rows):
        h.update(f"{uscc}\t{name}\n".encode())
    return h.hexdigest()


# --- departments and the matrix --------------------------------------------------------------

def test_market_bureaus_at_every_level(db, demo):
    market = Department.objects.filter(kind="market")
    assert market.filter(level="province").count() == 1
    assert market.filter(level="city").count() == 10
    assert market.filter(level="county").count() == 107
    counties = set(Division.objects.current().filter(level="county").values_list("code", flat=True))
    assert set(market.filter(level="county").values_list("division_id", flat=True)) == counties
    assert all(market.values_list("all_sectors", flat=True))
    assert Department.objects.get(code="610113-market").name == "雁塔区市场监督管理局"
    assert Department.objects.get(code="610100-market").name_en == (
        "Xi'an Administration for Market Regulation")


def test_sector_departments_at_province_and_city(db, demo):
    for kind in ("transport", "drug", "ecology", "public_security"):
        qs = Department.objects.filter(kind=kind)
        assert qs.filter(level="province").count() == 1
        assert qs.filter(level="city").count() == 10
        assert qs.filter(level="county").count() == 0
    housing = Department.objects.get(code="610100-housing")
    assert housing.name == "西安市住房和城乡建设局"
    assert not housing.all_sectors
    assert list(housing.sectors.values_list("code", flat=True)) == ["building"]
    drug = Department.objects.get(code="610000-drug")
    assert sorted(drug.sectors.values_list("code", flat=True)) == [
        "cosmetic", "drug", "medical_device"]
    police = Department.objects.get(code="610000-public_security")
    assert police.name == "陕西省公安厅"
    assert police.sectors.count() == 0


def test_every_leaf_has_a_lead_per_level_except_the_blind_spot(db, demo):
    leaves = leaf_codes()
    assert len(leaves) == 48
    leads = set(Responsibility.objects.filter(role="lead")
                .values_list("category__code", "level"))
    missing = {(c, lvl) for c in leaves for lvl in plan.LEVELS} - leads
    assert missing == {plan.BLIND_SPOT}
    # The blind spot still has rows: both departments only assist.
    assert sorted(Responsibility.objects.filter(
        category__code="ebike_battery", level="county").values_list("kind", "role")) == [
        ("market", "assist"), ("public_security", "assist")]


def test_matrix_report_shows_exactly_the_documented_gaps(db, demo):
    cells, blind, overlap = matrix_report()
    assert len(cells) == 63 * 3
    assert [(c.category, c.level) for c in blind] == [plan.BLIND_SPOT]
    assert [(c.category, c.level, c.leads) for c in overlap] == [
        ("special_equipment.elevator", "city", ("housing", "market"))]


def test_practice_of_the_matrix(db, demo):
    def cell(code, level):
        return sorted(Responsibility.objects.filter(category__code=code, level=level)
                      .values_list("kind", "role"))

    assert cell("building.rebar", "county") == [("housing", "lead"), ("market", "assist")]
    assert cell("building.rebar", "city") == [("housing", "assist"), ("market", "lead")]
    assert cell("drug.chemical", "province") == [("drug", "lead"), ("market", "assist")]
    assert cell("cosmetic.general", "city") == [("drug", "lead"), ("market", "assist")]
    assert cell("drug.retail", "county") == [("market", "lead")]
    assert cell("electrical.cable.power", "city") == [("market", "lead")]


# --- people, labs, units, the cable story --------------------------------------------------

def test_inspectors(db, demo):
    county = Department.objects.get(code="610113-market")
    assert 3 <= county.inspectors.count() <= 8
    assert Department.objects.get(code="610100-market").inspectors.count() == 30
    qualified = [i for i in county.inspectors.all()] + list(
        Department.objects.get(code="610000-market").inspectors.all())
    assert any("special_equipment" in i.qualifications for i in qualified)
    assert Department.objects.get(code="610000-public_security").inspectors.count() == 0


def test_labs_and_user_units(db, demo):
    assert Lab.objects.count() == 30
    assert UserUnit.objects.count() == 20
    assert Lab.objects.filter(status="suspended").count() == 1
    assert all(len(n) == 12 for n in Lab.objects.values_list("cma_number", flat=True))
    metro = UserUnit.objects.get(name="长安地铁运营有限公司")
    assert metro.sector == "transport"
    assert metro.categories.filter(code="electrical.cable.power").exists()


def test_cable_story(db, demo):
    maker = MarketEntity.objects.get(name="关中汇川线缆制造有限公司")
    assert maker.division_id == "610113"
    declared = {
        (p.category.code, tuple(sorted(p.standards.values_list("code", flat=True))))
        for p in Product.objects.filter(entity=maker)
    }
    assert declared == {
        ("electrical.cable.power", ("GB/T 12706.1-2020", "GB/T 3956-2008")),
        ("electrical.cable.building_wire",
         ("GB/T 3956-2008", "GB/T 5023.1-2008", "GB/T 5023.3-2008")),
    }
    bad = Lab.objects.get(name="渭川衡信检测技术有限公司")
    good = Lab.objects.get(name="西安正澄线缆质量检测有限公司")

    def covers(lab, standard, parameter):
        return AccreditationScope.objects.filter(
            lab=lab, standard__code=standard, parameter=parameter).exists()

    assert covers(bad, "GB/T 3956-2008", "导体结构")
    assert not covers(bad, "GB/T 3956-2008", "导体电阻")
    assert not AccreditationScope.objects.filter(lab=bad, standard__code="GB/T 3048.4-2007").exists()
    assert covers(good, "GB/T 3956-2008", "导体电阻")
    assert MarketEntity.objects.filter(name="咸阳澄远电缆有限公司").exists()


def test_personas_exist_and_log_in(db, demo, client):
    expected = {
        "admin": ("admin", None), "province": ("regulator", "610000-market"),
        "xian": ("regulator", "610100-market"), "baoji": ("regulator", "610300-market"),
        "yanta": ("regulator", "610113-market"), "xian_housing": ("regulator", "610100-housing"),
        "enterprise": ("enterprise", "关中汇川线缆制造有限公司"),
        "lab": ("lab", "渭川衡信检测技术有限公司"), "metro": ("user_unit", "长安地铁运营有限公司"),
        "inspector": ("regulator", "610100-market"),
    }
    for username, (role, org) in expected.items():
        user = User.objects.get(username=username)
        assert user.role == role
        organisation = user.organisation
        assert (organisation.code if user.role == "regulator" else
                organisation.name if organisation else None) == org
        assert client.login(username=username, password=plan.PASSWORD), username
        client.logout()
    assert User.objects.get(username="admin").is_superuser
    assert not client.login(username="xian", password="wrong-password-2017")


# --- entities, audit, determinism ----------------------------------------------------------

def test_entities_are_the_seeded_stream(db, demo):
    assert demo["created"] == N
    fixed = build.reserved(SEED)
    expected = list(itertools.islice(entity_rows(SEED, fixed.usccs), N))
    expected += [m.row for m in fixed.makers]
    assert MarketEntity.objects.count() == N + 2
    assert build.uscc_digest() == _digest(expected)


def test_generated_rows_are_valid_and_distinct():
    rows = list(itertools.islice(entity_rows(SEED), 3000))
    assert len({r["uscc"] for r in rows}) == 3000
    assert len({r["name"] for r in rows}) == 3000
    type_char = {"enterprise": "1", "individual": "2", "cooperative": "3"}
    for r in rows:
        assert validate_uscc(r["uscc"]) == []
        parts = parse_uscc(r["uscc"])
        assert parts["division"] == r["division"]
        assert parts["authority"] + parts["entity_type"] == "9" + type_char[r["entity_type"]]
        assert set(r["categories"].split(";")) <= set(leaf_codes())


def test_generator_is_deterministic_and_prefix_stable():
    a = list(itertools.islice(entity_rows(SEED), 500))
    b = list(itertools.islice(entity_rows(SEED), 500))
    assert a == b
    assert list(itertools.islice(entity_rows(SEED), 200)) == a[:200]
    other = list(itertools.islice(entity_rows(SEED + 1), 500))
    assert _digest(other) != _digest(a)


def test_distribution_follows_population_and_shares():
    n = 20000
    rows = list(itertools.islice(entity_rows(SEED), n))
    cities = collections.Counter(r["division"][:4] for r in rows)
    # Xi'an holds 12.95 of 39.53 million residents (32.8%); ±4 standard deviations.
    assert 0.318 < cities["6101"] / n < 0.338
    assert cities.most_common(1)[0][0] == "6101"
    assert min(cities, key=cities.get) == "6102"  # Tongchuan, the smallest city
    risk = collections.Counter(r["risk_class"] for r in rows)
    for cls, share in {"A": 0.30, "B": 0.50, "C": 0.15, "D": 0.05}.items():
        assert abs(risk[cls] / n - share) < 0.015, cls
    types = collections.Counter(r["entity_type"] for r in rows)
    assert abs(types["individual"] / n - 0.40) < 0.015
    cats = collections.Counter(c for r in rows for c in r["categories"].split(";"))
    assert cats["food.sales"] > cats["special_equipment.boiler"] * 20


def test_build_is_idempotent_and_extends(db, demo):
    before = (Department.objects.count(), Responsibility.objects.count(),
              User.objects.count(), MarketEntity.objects.count())
    assert build.province_exists()
    assert build.entities_build(seed=SEED, count=N) == 0
    assert (Department.objects.count(), Responsibility.objects.count(),
            User.objects.count(), MarketEntity.objects.count()) == before
    assert build.entities_build(seed=SEED, count=N + 20) == 20
    fixed = build.reserved(SEED)
    expected = list(itertools.islice(entity_rows(SEED, fixed.usccs), N + 20))
    assert build.uscc_digest() == _digest(expected + [m.row for m in fixed.makers])


def test_other_seed_on_existing_demo_is_refused(db, demo):
    count = MarketEntity.objects.count()
    with pytest.raises(build.DemoError, match="another seed"):
        build.entities_build(seed=SEED + 1, count=10)
    assert MarketEntity.objects.count() == count


def test_every_record_is_audited_and_the_chain_verifies(db, demo):
    assert AuditEntry.objects.filter(action="entity.registered").count() == N + 2
    assert AuditEntry.objects.filter(action="user.created").count() == User.objects.count()
    assert User.objects.filter(username__in=[p.username for p in plan.PERSONAS]).count() == len(
        plan.PERSONAS)
    assert AuditEntry.objects.filter(action="department.registered").count() == 280
    assert "password" not in AuditEntry.objects.filter(action="user.created").first().body
    checkpoint = audit.checkpoint_create()
    result = audit.verify()
    assert result.ok, result
    assert result.checked == AuditEntry.objects.count() == checkpoint.seq


# --- random inspections ---------------------------------------------------------------------

def test_demo_draws_verify(db, demo):
    draws = list(Draw.objects.select_related("plan").order_by("id"))
    assert len(draws) >= 3
    assert [(d.plan.code, d.number, d.status) for d in draws] == [
        ("SJ-2026-0001", 1, "drawn"), ("SJ-2026-0002", 1, "superseded"),
        ("SJ-2026-0002", 2, "drawn"), ("SJ-2026-0003", 1, "drawn")]
    for d in draws:
        if d.seed:
            checks = draw.verify_bundle(draw.loads(draw.canonical(d.bundle())))
            assert [c.name for c in checks if not c.ok] == [], d
    specs = {s.title: s for s in inspections.plan_specs(SEED, timezone.localdate())}
    for d in draws:
        spec = specs[d.plan.title]
        if d.seed:
            assert d.dice == inspections.dice_for(SEED, spec.key).replace(" ", "")
            assert d.seeded_at == spec.seeded
    # The spring plans are dated, so their draws are the same in every build.
    assert draws[0].commitment["published_at"] == "2026-03-02T09:30:00+08:00"
    assert draws[1].commitment["published_at"] == "2026-05-11T09:30:00+08:00"
    assert draws[2].commitment["published_at"] == "2026-05-12T15:00:00+08:00"
    assert draws[2].redraw_of_id == draws[1].pk and "退休" in draws[2].redraw_reason
    assert not draws[1].redraw_of_id and not draws[1].seed


def test_demo_plans(db, demo):
    plans = {p.code: p for p in InspectionPlan.objects.prefetch_related("departments")}
    cables, building, flying = plans["SJ-2026-0001"], plans["SJ-2026-0002"], plans["SJ-2026-0003"]
    assert (cables.lead_department.code, cables.kind, cables.division_prefixes) == (
        "610100-market", "routine", ["6101"])
    assert sorted(d.code for d in building.departments.all()) == [
        "610000-housing", "610000-market"]
    assert building.stratify_by_city
    assert all(s["key"][:4] + "00" in {d.code for d in Division.objects.filter(level="city")}
               for s in building.current_draw.frame["strata"])
    assert flying.kind == "flying" and flying.division_prefixes == ["6101"]
    # The flying inspection visits every electrical firm of Xi'an without an open task.
    d = flying.current_draw
    assert len(d.result["selected"]) == len(d.frame["entities"])
    # If the spring draw picks the story's cable maker (it does with seed 2017 and 300
    # entities), it is ordered to rectify, and the visit is closed before the flying one.
    assert list(Task.objects.filter(plan=cables, entity__name=plan.STORY["maker"]["name"])
                .values_list("status", "outcome")) in ([], [("completed", "rectification")])


def test_demo_has_published_results_and_open_and_overdue_tasks(db, demo):
    published = Task.objects.published()
    assert published.count() >= 5
    assert {"no_problem", "rectification"} <= set(published.values_list("outcome", flat=True))
    assert all(t.published_at >= t.completed_at and t.publish_due >= t.completed_at.date()
               for t in published)
    # Only the flying inspection, whose visits are not over, holds its results back.
    held = Task.objects.filter(status="completed", published_at__isnull=True)
    assert set(held.values_list("plan__code", flat=True)) == {"SJ-2026-0003"}
    assert not held.first().draw.disclosed()
    overdue = Task.objects.overdue()
    assert overdue.exists()
    assert set(overdue.values_list("plan__code", flat=True)) <= {"SJ-2026-0001", "SJ-2026-0002"}
    current = Task.objects.open().filter(plan__code="SJ-2026-0003")
    assert current.exists() and not current.filter(due_on__lt=timezone.localdate()).exists()
    assert demo["inspections"].completed == Task.objects.filter(status="completed").count()


def test_demo_cable_maker_case(db, demo):
    case = Task.objects.get(entity__name=plan.STORY["maker"]["name"], outcome="case_opened")
    assert case.plan.kind == "flying"
    assert case.published_at is None  # a flying inspection's results wait for its last visit
    assert case.status == "completed" and not case.draw.disclosed()
    assert "GB/T 3956-2008" in case.summary and plan.STORY["lab"]["name"] in case.summary
    assert case.item_results.filter(result="nonconforms").count() == 2
    assert all(m.signed_digest == case.record_sha256 for m in case.members.all())


def test_demo_inspector_login_has_current_work(db, demo, client):
    user = User.objects.get(username="inspector")
    assert user.inspector.department.code == "610100-market"
    assert user.display_name == user.inspector.name
    mine = Task.objects.for_inspector_user(user)
    assert mine.open().filter(plan__code="SJ-2026-0003").exists()
    # Every colleague on the login's tasks can sign in too (username = badge number).
    for task in mine:
        for m in task.members.select_related("inspector__user"):
            assert m.inspector.user is not None
    assert client.login(username="inspector", password=plan.PASSWORD)
    # Every inspector of a completed task signed in with an account of their own.
    for m in TaskMember.objects.filter(task__status="completed").select_related("inspector"):
        assert m.inspector.user_id is not None and m.signed_at is not None


def test_demo_inspections_are_built_once(db, demo):
    count = Task.objects.count()
    again = inspections.inspections_build(seed=SEED)
    assert again.plans == 0 and Task.objects.count() == count


# --- create_token ---------------------------------------------------------------------------

def test_create_token_works_for_the_api(db, demo):
    out = io.StringIO()
    call_command("create_token", "xian", stdout=out)
    key = out.getvalue().strip()
    assert len(key) == 40
    again = io.StringIO()
    call_command("create_token", "xian", stdout=again)
    assert again.getvalue().strip() == key
    api = APIClient()
    assert api.get("/api/v1/entities/").status_code == 401
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = api.get("/api/v1/entities/")
    assert response.status_code == 200
    assert response.json()["count"] == MarketEntity.objects.filter(
        division__code__startswith="6101").count()


def test_create_token_refuses_unknown_user(db, demo):
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        call_command("create_token", "nobody", stdout=io.StringIO())


# --- the command itself ---------------------------------------------------------------------

def _entities(path):
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT uscc, name FROM registry_marketentity").fetchall()
    return _digest({"uscc": u, "name": n} for u, n in rows), len(rows)


def test_command_builds_reruns_and_resets(tmp_path):
    """`zhijian demo --no-serve` in a fresh SQLite file; again (nothing added); then
    --reset, which must delete the file (the audit triggers refuse DELETE) and rebuild the
    same entities."""
    db = tmp_path / "demo.sqlite3"
    env = os.environ | {"DATABASE_URL": f"sqlite:///{db}", "ZHIJIAN_DATA_DIR": str(tmp_path)}
    env.pop("ZHIJIAN_PROFILE", None)

    def demo(*extra):
        done = subprocess.run(
            [sys.executable, "-m", "zhijian", "demo", "--no-serve", "--entities", "50", *extra],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900, check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout

    first = demo()
    assert "Building the demo province (seed 2017)" in first
    assert "market entities: 50 added" in first
    assert "xian_housing  zhijian-demo-2017" in first
    assert "inspector     zhijian-demo-2017" in first
    assert "random inspections: SJ-2026-0001 2026年西安市电线电缆产品质量双随机抽查: drawn 1," in first
    built = _entities(db)
    assert built[1] == 63  # 50 generated + the two cable makers + the supply chain's 11 firms

    again = demo()
    assert "already in this database" in again
    assert "market entities: 0 added" in again
    assert "random inspections: already in this database; keeping them" in again
    assert _entities(db) == built

    reset = demo("--reset")
    assert f"Emptied the database {db}" in reset
    assert "market entities: 50 added" in reset
    assert _entities(db) == built


# --- sampling, reports and acceptance (demo/quality.py) ---------------------------------------

def test_demo_reports_verify_as_the_story_says(db, demo):
    from zhijian.reports import services as reports

    assert (demo["quality"].reports, demo["quality"].samples) == (7, 3)
    result = reports.reports_verify(["WCHX-2026-0815", "WCHX-2026-0701", "WCHX-2026-0902",
                                     "WCHX-2026-0902-R1", "ZC-JD-2026-0118", "WCHX-2026-0999"])
    assert {n: (v.genuine, v.valid) for n, v in result.items()} == {
        "WCHX-2026-0815": (True, True), "WCHX-2026-0701": (True, False),
        "WCHX-2026-0902": (True, False), "WCHX-2026-0902-R1": (True, True),
        "ZC-JD-2026-0118": (True, True), "WCHX-2026-0999": (False, False)}
    assert result["WCHX-2026-0815"].custody == "platform"
    assert result["ZC-JD-2026-0118"].custody == "lab"


def test_demo_sampling_story(db, demo):
    from zhijian.reports.models import HazardReport
    from zhijian.sampling.models import Disposal, Sample

    samples = {s.code: s for s in Sample.objects.all()}
    failed = [s for s in samples.values() if s.result == "fail"]
    assert [(s.batch, s.published_at is not None) for s in failed] == [("HC-2026-0815", True)]
    duplicate = Sample.objects.get(duplicate_of__isnull=False)
    assert duplicate.duplicate_of.number == "ZC-JD-2026-0118"
    assert duplicate.custody_problems() and not duplicate.custody_intact
    disposal = Disposal.objects.get()
    assert (disposal.department.code, disposal.status, disposal.kind) == (
        "610113-market", "decided", "case")
    assert HazardReport.objects.get().department == disposal.department


def test_demo_acceptance_story(db, demo):
    from zhijian.procurement.models import AcceptanceCheck, Referral, Supplier
    from zhijian.reports.models import Signal

    checks = {c.delivery.number: c for c in AcceptanceCheck.objects.select_related("delivery")}
    assert {n: c.accepted for n, c in checks.items()} == {
        "CADT-2026-0412": True, "CADT-2026-0388": False, "QYGD-2026-1107": False}
    assert "report_not_found" in [f["code"] for f in checks["CADT-2026-0388"].findings]
    assert Referral.objects.get().delivery.number == "CADT-2026-0388"
    assert sorted(Signal.objects.values_list("kind", "number")) == [
        ("over_coverage", "WCHX-2026-0815"), ("unknown_number", "WCHX-2026-0999")]
    standing = {(s.supplier_list.user_unit.name, s.entity.name): s.standing
                for s in Supplier.objects.select_related("supplier_list__user_unit", "entity")}
    assert standing == {
        ("长安地铁运营有限公司", "关中汇川线缆制造有限公司"): "removed",
        ("长安地铁运营有限公司", "咸阳澄远电缆有限公司"): "qualified",
        ("陕西秦源供电有限公司", "关中汇川线缆制造有限公司"): "removed"}


def test_demo_quality_is_built_once(db, demo):
    again = quality.quality_build(seed=SEED)
    assert (again.reports, again.samples, again.deliveries) == (0, 0, 0)
