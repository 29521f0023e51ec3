"""Writes of the demo builder that the registry has no service for: loading the reference
catalogue (categories and standards), creating the demo's login accounts and linking
inspectors to theirs. Each runs in one transaction, checks that the actor is an
administrator, and audits every record."""

from __future__ import annotations

from functools import lru_cache

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import transaction

from zhijian.accounts.models import User
from zhijian.core import audit
from zhijian.registry import access
from zhijian.registry.models import Inspector, ProductCategory, Standard

from .generate import load, walk_catalogue

# Audited user fields: never the password hash.
USER_AUDIT_FIELDS = ("id", "username", "role", "display_name", "department", "entity", "lab",
                     "user_unit", "is_staff", "is_superuser", "is_active")


@lru_cache(maxsize=4)
def _password_hash(password: str) -> str:
    # All demo logins share one published password; hashing it once (PBKDF2 with a
    # million rounds) instead of once per account saves seconds per build.
    return make_password(password)


def _change(instance, action: str, division: str = "") -> audit.Change:
    return audit.Change(action, instance._meta.label_lower, str(instance.pk), None,
                        audit.snapshot(instance), "demo", division)


@transaction.atomic
def catalogue_load(*, actor) -> tuple[int, int]:
    """Create the product catalogue and the standards from data/*.json (admins only).

    Returns (categories, standards) created; existing codes are left as they are."""
    access.require_admin(actor)
    changes = []
    by_code = {c.code: c for c in ProductCategory.objects.all()}
    created_cats = 0
    for node in walk_catalogue():
        if node["code"] in by_code:
            continue
        cat = ProductCategory(
            code=node["code"], name=node["name"], name_en=node["name_en"],
            parent=by_code.get(node["parent"]) if node["parent"] else None,
            ccc=node["ccc"], key_material=node["key_material"],
            licence_required=node["licence_required"], qualification=node["qualification"],
        )
        cat.full_clean()
        cat.save()
        by_code[cat.code] = cat
        changes.append(_change(cat, "productcategory.saved"))
        created_cats += 1
    existing = set(Standard.objects.values_list("code", flat=True))
    created_std = 0
    for spec in load("standards")["standards"]:
        if spec["code"] in existing:
            continue
        std = Standard(code=spec["code"], title=spec["title"], title_en=spec["title_en"])
        std.full_clean()
        std.save()
        std.categories.set([by_code[c] for c in spec["categories"]])
        changes.append(_change(std, "standard.saved"))
        created_std += 1
    audit.append_many(changes, actor=actor)
    return created_cats, created_std


@transaction.atomic
def persona_create(*, actor, username: str, password: str, role: str, display_name: str = "",
                   department=None, entity=None, lab=None, user_unit=None,
                   superuser: bool = False) -> User:
    """Create one demo login (admins only; the very first administrator is created by the
    system, actor None, when the platform has no users yet)."""
    if actor is not None or User.objects.exists():
        access.require_admin(actor)
    user = User(username=username, role=role, display_name=display_name,
                department=department, entity=entity, lab=lab, user_unit=user_unit,
                is_staff=superuser, is_superuser=superuser)
    user.password = _password_hash(password)
    user.full_clean()
    user.save()
    division = ""
    if department is not None:
        division = department.division_id
    elif (org := entity or lab or user_unit) is not None:
        division = org.division_id
    audit.append(audit.Change("user.created", user._meta.label_lower, str(user.pk), None,
                              audit.snapshot(user, USER_AUDIT_FIELDS), "demo", division),
                 actor=actor)
    return user


@transaction.atomic
def inspector_account_create(*, actor, inspector: Inspector, username: str,
                             password: str) -> User:
    """Give a demo inspector a login (admins only): a regulator account of the inspector's
    department, linked to the inspector, so that a drawn team can record and sign its
    inspections. Refused if the inspector already has one."""
    access.require_admin(actor)
    inspector = Inspector.objects.select_for_update().get(pk=inspector.pk)
    if inspector.user_id is not None:
        raise ValidationError(f"Inspector {inspector.badge_number} already has a login.")
    user = persona_create(actor=actor, username=username, password=password, role="regulator",
                          display_name=inspector.name, department=inspector.department)
    before = audit.snapshot(inspector)
    inspector.user = user
    inspector.save(update_fields=["user"])
    audit.record(inspector, action="inspector.updated", actor=actor, before=before,
                 reason="demo", division=inspector.department.division_id)
    return user
