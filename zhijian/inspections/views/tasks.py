"""Inspection tasks: the officers' list, an inspector's own tasks, and the task page the
team fills in on site (checklist, outcome, evidence with SHA-256, signatures on the
record digest, completion); and declarations of conflicts of interest."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, Prefetch, Q, Value, When
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from zhijian.core import audit
from zhijian.registry.access import entities_visible_to
from zhijian.registry.models import Inspector
from zhijian.web.common import call_service, paginate, regulator_required

from .. import access, services
from ..choices import OPEN_STATUSES, TaskStatus
from ..forms import ActionForm, ConflictForm, EvidenceForm, TaskFilterForm, TaskRecordForm
from ..models import InspectorConflict, Task, TaskMember


def overdue_first(qs):
    """Overdue tasks first, then the other open ones, then closed ones; each by due date."""
    today = timezone.localdate()
    return qs.annotate(urgency=Case(
        When(status__in=OPEN_STATUSES, due_on__lt=today, then=Value(0)),
        When(status__in=OPEN_STATUSES, then=Value(1)),
        default=Value(2), output_field=IntegerField(),
    )).order_by("urgency", "due_on", "id")


def _with_team(qs):
    return qs.select_related("entity", "plan").prefetch_related(
        Prefetch("members", queryset=TaskMember.objects.select_related("inspector")))


# --- lists ---------------------------------------------------------------------------------

@regulator_required
def task_list(request, scope):
    plans = access.plans_visible_to(request.user).order_by("-created_at", "-id")
    form = TaskFilterForm(request.GET or None,
                          plans=plans.values_list("pk", "code", "title")[:200])
    qs = access.tasks_visible_to(request.user)
    if form.is_valid():
        d = form.cleaned_data
        if d["plan"]:
            qs = qs.filter(plan_id=d["plan"])
        if d["status"]:
            qs = qs.filter(status=d["status"])
        if d["overdue"]:
            qs = qs.overdue()
    return render(request, "inspections/task_list.html", {
        "form": form, "page": paginate(request, _with_team(overdue_first(qs))),
        "today": timezone.localdate(),
    })


def _own_inspector(user) -> Inspector | None:
    return Inspector.objects.filter(user=user).select_related("department").first()


@regulator_required
def my_tasks(request, scope):
    inspector = _own_inspector(request.user)
    tasks = Task.objects.none()
    if inspector is not None:
        tasks = Task.objects.for_inspector_user(request.user).exclude(
            status=TaskStatus.CANCELLED)
    page = paginate(request, _with_team(overdue_first(tasks)))
    return render(request, "inspections/my_tasks.html", {
        "inspector": inspector, "page": page,
        "overdue_count": tasks.overdue().count() if inspector is not None else 0,
    })


# --- one task ------------------------------------------------------------------------------

def visible_task(request, pk) -> Task:
    qs = access.tasks_visible_to(request.user).select_related(
        "plan__lead_department", "entity__division", "draw")
    return access.get_or_404(qs, pk)


def _items(task):
    return list(task.plan.items.select_related("department").order_by("position"))


def _results(task):
    return list(task.item_results.select_related("item__department").order_by(
        "item__position"))


def _members(task, digest: str) -> list[dict]:
    """Each member with their signature: valid on the current record, voided by a later
    change (the audit log keeps the signature the change voided), or not given."""
    members = list(task.members.select_related("inspector__department").order_by("slot"))
    signed: dict[str, object] = {}
    for entry in audit.history("inspections.task", task.pk):
        if entry["action"] == "task.signed":
            signed[(entry.get("after") or {}).get("inspector")] = parse_datetime(entry["ts"])
    rows = []
    for m in members:
        valid = bool(m.signed_digest) and m.signed_digest == digest
        rows.append({
            "member": m, "inspector": m.inspector, "valid": valid,
            "signed_at": m.signed_at if valid else None,
            "voided_at": None if valid else signed.get(m.inspector.badge_number),
        })
    return rows


def _task_page(request, task, *, record_form=None, evidence_form=None, sign_form=None,
               status=200):
    user = request.user
    digest = services.task_record_digest(task)
    members = _members(task, digest)
    is_member = any(row["inspector"].user_id == user.pk for row in members)
    is_open = task.status in OPEN_STATUSES
    items = _items(task)
    results = _results(task)
    if record_form is None:
        record_form = TaskRecordForm(task=task, items=items,
                                     initial=TaskRecordForm.initial_for(task, results))
    return render(request, "inspections/task_detail.html", {
        "task": task, "plan": task.plan, "entity": task.entity,
        "members": members, "digest": digest, "results": results,
        "evidence": task.evidence.select_related("uploaded_by"),
        "is_member": is_member,
        "can_record": is_member and is_open,
        "can_sign": is_member and task.status == TaskStatus.IN_PROGRESS,
        "my_signature_valid": any(r["valid"] for r in members
                                  if r["inspector"].user_id == user.pk),
        "is_inspector": _own_inspector(user) is not None,
        "record_form": record_form,
        "evidence_form": evidence_form or EvidenceForm(),
        "sign_form": sign_form or ActionForm(),
    }, status=status)


def _member_task(request, pk) -> Task:
    """A task the user may see, refused (403) unless the user is on its team."""
    task = visible_task(request, pk)
    if not access.is_task_member(request.user, task):
        raise PermissionDenied(_("Only the inspectors drawn for this firm can record its "
                                 "inspection."))
    return task


@regulator_required
def task_detail(request, pk, scope):
    if request.method != "POST":
        return _task_page(request, visible_task(request, pk))
    task = _member_task(request, pk)
    if task.status not in OPEN_STATUSES:
        messages.error(request, _("This task is closed."))
        return redirect("inspections:task_detail", pk=pk)
    form = TaskRecordForm(request.POST, task=task, items=_items(task))
    if form.is_valid():
        saved = call_service(form, services.task_record, actor=request.user, task_id=task.pk,
                             **form.service_kwargs())
        if saved is not None:
            messages.success(request, _("Inspection record saved. Signatures given before "
                                        "this change are void; sign again."))
            return redirect("inspections:task_detail", pk=pk)
    return _task_page(request, task, record_form=form)


@regulator_required
def task_evidence(request, pk, scope):
    task = _member_task(request, pk)
    if request.method != "POST":
        return redirect("inspections:task_detail", pk=pk)
    if task.status not in OPEN_STATUSES:
        messages.error(request, _("This task is closed."))
        return redirect("inspections:task_detail", pk=pk)
    form = EvidenceForm(request.POST, request.FILES)
    if form.is_valid():
        ev = call_service(form, services.evidence_add, actor=request.user, task_id=task.pk,
                          upload=form.cleaned_data["file"])
        if ev is not None:
            messages.success(request, _("%(name)s kept with SHA-256 %(sha)s.")
                             % {"name": ev.name, "sha": ev.sha256})
            return redirect("inspections:task_detail", pk=pk)
    return _task_page(request, task, evidence_form=form)


@regulator_required
def evidence_file(request, pk, evidence_pk, scope):
    task = visible_task(request, pk)
    ev = access.get_or_404(task.evidence.all(), evidence_pk)
    return FileResponse(ev.file.open("rb"), as_attachment=True, filename=ev.name,
                        content_type=ev.content_type or "application/octet-stream")


@regulator_required
def task_sign(request, pk, scope):
    task = _member_task(request, pk)
    if request.method != "POST":
        return redirect("inspections:task_detail", pk=pk)
    form = ActionForm(request.POST)
    member = call_service(form, services.task_sign, actor=request.user, task_id=task.pk)
    if member is not None:
        messages.success(request, _("Signed: record digest %(digest)s.")
                         % {"digest": member.signed_digest})
        return redirect("inspections:task_detail", pk=pk)
    return _task_page(request, task, sign_form=form)


@regulator_required
def task_complete(request, pk, scope):
    """Complete the inspection. A refusal is shown on the record form, next to the field
    it names (the outcome, the findings) or above it."""
    task = _member_task(request, pk)
    if request.method != "POST":
        return redirect("inspections:task_detail", pk=pk)
    items = _items(task)
    form = TaskRecordForm(TaskRecordForm.initial_for(task, _results(task)), task=task,
                          items=items)
    form.is_valid()
    done = call_service(form, services.task_complete, actor=request.user, task_id=task.pk)
    if done is not None:
        messages.success(request, _("Inspection completed. The result is published within "
                                    "the legal period (by %(date)s).")
                         % {"date": done.publish_due.isoformat()})
        return redirect("inspections:task_detail", pk=pk)
    return _task_page(request, task, record_form=form)


# --- conflicts of interest -----------------------------------------------------------------

def _declarable_inspectors(user, scope):
    """An inspector declares for themselves; an officer for the inspectors of their
    department; an administrator for anyone."""
    qs = Inspector.objects.select_related("department")
    if not scope.is_admin:
        qs = qs.filter(Q(user=user) | Q(department_id=user.department_id))
    return qs.filter(active=True).order_by("badge_number")


@regulator_required
def conflict_declare(request, scope):
    user = request.user
    inspectors = _declarable_inspectors(user, scope)
    initial = {}
    own = _own_inspector(user)
    if own is not None:
        initial["inspector"] = own.pk
    entity_pk = request.GET.get("entity", "")
    if entity_pk.isdigit():
        entity = entities_visible_to(user).filter(pk=entity_pk).first()
        if entity is not None:
            initial["entity"] = entity.uscc
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()},
                                           require_https=request.is_secure()):
        next_url = ""
    form = ConflictForm(request.POST or None, user=user, inspectors=inspectors,
                        initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        c = call_service(form, services.conflict_declare, actor=user,
                         inspector=d["inspector"], entity=d["entity"], reason=d["reason"])
        if c is not None:
            messages.success(request, _("Conflict of interest recorded: %(inspector)s will "
                                        "not be drawn for %(firm)s.")
                             % {"inspector": c.inspector.name, "firm": c.entity.name})
            return redirect(next_url or "inspections:conflict_declare")
    conflicts = (InspectorConflict.objects.filter(inspector__in=inspectors)
                 .select_related("inspector", "entity").order_by("-declared_at", "-id")[:200])
    return render(request, "inspections/conflict_form.html", {
        "form": form, "conflicts": conflicts, "next": next_url,
    })
