"""Build the demo province in the database through the platform's services.

`province_build` writes the reference data, departments, responsibility matrix,
inspectors, labs, user units, the cable story's actors and the demo logins in one
transaction. `entities_build` adds the synthetic market entities in batches through
`registry.services.entities_import` (full validation and audit). Both are idempotent:
run again with the same seed, they add nothing; with a larger N, `entities_build` adds
only the missing tail of the same deterministic stream.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import OperationalError, connection, transaction

from zhijian.accounts.models import User
from zhijian.registry import services as registry
from zhijian.registry.models import Department, MarketEntity, ProductCategory, Standard

from . import plan
from .generate import entity_rows
from .services import catalogue_load, persona_create

MARKER = "610000-market"  # the demo province exists when this department does


class DemoError(Exception):
    """The demo cannot be built into this database as asked."""


def province_exists() -> bool:
    return Department.objects.filter(code=MARKER).exists()


@dataclass
class Reserved:
    """USCCs of the fixed actors, which the entity stream must not reuse."""

    usccs: set[str]
    labs: list[plan.LabPlan]
    units: list[plan.UnitPlan]
    makers: list[plan.MakerPlan]


def reserved(seed: int, chain: bool = True) -> Reserved:
    taken: set[str] = set()
    labs = plan.labs(seed, taken)
    units = plan.user_units(seed, taken)
    makers = plan.makers(seed, taken)
    if chain:  # the supply chain's firms (supply_chain.py), registered after the entities
        from .supply_chain import chain_usccs

        taken |= chain_usccs(seed, set(taken))
    return Reserved(taken, labs, units, makers)


def _row_to_entity(row: dict, cats: dict[str, ProductCategory]) -> dict:
    data = dict(row)
    data["registered_on"] = dt.date.fromisoformat(row["registered_on"])
    data["licence_holder"] = row["licence_holder"] == "true"
    data["categories"] = [cats[c] for c in row["categories"].split(";")]
    return data


def province_build(*, seed: int, log: Callable[[str], None] = lambda _m: None) -> dict:
    """Everything but the generated entities, in one transaction. Returns counts."""
    with transaction.atomic():
        admin = persona_create(
            actor=None, username="admin", password=plan.PASSWORD, role="admin",
            display_name=plan.persona_names(seed)["admin"], superuser=True,
        ) if not User.objects.filter(username="admin").exists() else User.objects.get(
            username="admin")
        n_cat, n_std = catalogue_load(actor=admin)
        log(f"catalogue: {n_cat} product categories, {n_std} standards")
        cats = {c.code: c for c in ProductCategory.objects.all()}
        stds = {s.code: s for s in Standard.objects.all()}

        dept_plans = plan.departments()
        depts = {}
        for d in dept_plans:
            depts[d.code] = registry.department_register(actor=admin, data={
                "code": d.code, "name": d.name, "name_en": d.name_en, "kind": d.kind,
                "level": d.level, "division": d.division, "all_sectors": d.all_sectors,
                "sectors": [cats[c] for c in d.sectors], "phone": d.phone,
            })
        log(f"departments: {len(depts)}")

        duties = plan.responsibilities()
        for duty in duties:
            registry.responsibility_set(actor=admin, category=cats[duty.category],
                                        level=duty.level, kind=duty.kind, role=duty.role,
                                        legal_basis=duty.legal_basis)
        log(f"responsibility matrix: {len(duties)} duties")

        inspectors = plan.inspectors(seed, dept_plans)
        for i in inspectors:
            registry.inspector_register(actor=admin, data={
                "name": i.name, "badge_number": i.badge_number,
                "department": depts[i.department], "qualifications": list(i.qualifications),
            })
        log(f"inspectors: {len(inspectors)}")

        fixed = reserved(seed)
        labs = {}
        n_scopes = 0
        for lp in fixed.labs:
            lab = registry.lab_register(actor=admin, data={
                "name": lp.name, "uscc": lp.uscc, "division": lp.division,
                "address": lp.address, "cma_number": lp.cma_number,
                "cnas_number": lp.cnas_number, "status": lp.status,
                "monthly_capacity": lp.monthly_capacity,
            })
            labs[lp.key] = lab
            for line in lp.scopes:
                registry.lab_scope_add(actor=admin, lab_id=lab.pk, data={
                    "standard": stds[line.standard], "parameter": line.parameter,
                    "valid_from": line.valid_from, "valid_to": line.valid_to,
                })
                n_scopes += 1
        log(f"laboratories: {len(labs)} with {n_scopes} accreditation scope lines")

        units = {}
        for up in fixed.units:
            units[up.key] = registry.user_unit_register(actor=admin, data={
                "name": up.name, "uscc": up.uscc, "division": up.division,
                "sector": up.sector, "categories": [cats[c] for c in up.categories],
                "contact_phone": up.contact_phone,
            })
        log(f"user units: {len(units)}")

        makers = {}
        n_products = 0
        for mp in fixed.makers:
            entity = registry.entity_register(actor=admin, data=_row_to_entity(mp.row, cats))
            makers[mp.key] = entity
            for name, model, category, standards, gtin in mp.products:
                registry.product_register(actor=admin, data={
                    "entity": entity, "name": name, "model": model,
                    "category": cats[category], "standards": [stds[s] for s in standards],
                    "gtin": gtin,
                })
                n_products += 1
        log(f"cable story: {len(makers)} cable makers with {n_products} products")

        person = plan.persona_names(seed)
        orgs = {"maker": ("entity", makers), "lab": ("lab", labs), "metro": ("user_unit", units),
                "honest_lab": ("lab", labs), "power": ("user_unit", units)}
        for p in plan.PERSONAS:
            if p.username == "admin" or p.inspector or User.objects.filter(
                    username=p.username).exists():
                continue  # the inspector login is made with the draws (inspections.py)
            links = {}
            if p.department:
                links["department"] = depts[p.department]
            if p.org:
                field, table = orgs[p.org]
                links[field] = table[p.org]
            persona_create(actor=admin, username=p.username, password=plan.PASSWORD,
                           role=p.role, display_name=person[p.username], **links)
        log(f"logins: {sum(not p.inspector for p in plan.PERSONAS)}")
    return {"departments": len(depts), "duties": len(duties), "inspectors": len(inspectors),
            "labs": len(labs), "user_units": len(units)}


def entities_build(*, seed: int, count: int, batch: int = 5000,
                   progress: Callable[[int], None] | None = None) -> int:
    """Import the first `count` rows of the seed's entity stream that are not yet in the
    database. Returns how many were created."""
    admin = User.objects.get(username="admin")
    fixed = reserved(seed)
    story = {mp.row["uscc"] for mp in fixed.makers} | fixed.usccs  # incl. the chain's firms
    already = MarketEntity.objects.exclude(uscc__in=story).count()
    rows = itertools.islice(entity_rows(seed, fixed.usccs), count)
    resume = already > 0
    if resume:
        first = next(entity_rows(seed, fixed.usccs))
        if not MarketEntity.objects.filter(uscc=first["uscc"]).exists():
            raise DemoError(
                f"This database holds a demo built with another seed ({already} entities); "
                "run with --reset to rebuild it.")
    created = 0
    while chunk := list(itertools.islice(rows, batch)):
        if resume:
            codes = [r["uscc"] for r in chunk]
            present = set()
            for k in range(0, len(codes), 900):
                present.update(MarketEntity.objects.filter(uscc__in=codes[k:k + 900])
                               .values_list("uscc", flat=True))
            skipped = len(present)
            chunk = [r for r in chunk if r["uscc"] not in present]
            if progress and skipped:
                progress(skipped)
            if not chunk:
                continue
        report = registry.entities_import(actor=admin, rows=chunk, progress=progress)
        if not report.ok:
            first_errors = "; ".join(f"row {e.row} {e.field}: {e.message}"
                                     for e in report.errors[:5])
            raise DemoError(f"The generated entities were refused: {first_errors}")
        created += report.created
    return created


def uscc_digest() -> str:
    """SHA-256 over the sorted USCCs and names of all entities (a determinism check)."""
    h = hashlib.sha256()
    for uscc, name in MarketEntity.objects.order_by("uscc").values_list("uscc", "name"):
        h.update(f"{uscc}\t{name}\n".encode())
    return h.hexdigest()


def database_create() -> str | None:
    """Create the PostgreSQL database named by DATABASE_URL if the server lacks it, so
    that `DATABASE_URL=postgres://…/name zhijian demo` works on a fresh server. Returns
    the name of a database it created."""
    if connection.vendor != "postgresql":
        return None
    try:
        connection.ensure_connection()
        return None
    except OperationalError as exc:
        if "does not exist" not in str(exc):
            raise
    import psycopg
    from psycopg import sql

    db = settings.DATABASES["default"]
    params = {"host": db.get("HOST"), "port": db.get("PORT"), "user": db.get("USER"),
              "password": db.get("PASSWORD"), "dbname": "postgres"}
    with psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db["NAME"])))
    return db["NAME"]


def database_reset() -> str:
    """Start from an empty database. The audit log refuses DELETE and UPDATE (triggers),
    so the SQLite file is removed, or the PostgreSQL schema dropped and recreated."""
    db = settings.DATABASES["default"]
    vendor = connection.vendor
    if vendor == "sqlite":
        name = str(db["NAME"])
        connection.close()
        if name and name != ":memory:" and "mode=memory" not in name:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(name + suffix).unlink(missing_ok=True)
        return name
    if vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE")
            cursor.execute("CREATE SCHEMA public")
        return f"{db.get('HOST', '')}/{db['NAME']}"
    raise DemoError(f"--reset does not know how to empty a {vendor} database.")

