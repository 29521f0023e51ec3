"""One sample: its fields, the duplicate flag of mutual recognition, the custody timeline
with every signature and the problems found in it, photos, the result; the forms to hand
it over and to confirm receipt. Also the regulators' sample list and the lab's page
(samples assigned to the lab, hand-overs waiting for the user)."""

from __future__ import annotations

import functools

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from zhijian.core.access import Denied, scope_of
from zhijian.web.common import call_service, paginate, regulator_required

from .. import access, services
from ..choices import SampleStatus
from ..forms import GiveForm, PhotoForm, ReceiveForm, SampleFilterForm
from ..models import Handover, Sample
from .plans import waiting_for


def signed_in(view):
    """Any signed-in user; what they may see is decided by access.samples_visible_to."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapper


def refused_as_403(fn):
    """Run a service; its Denied (a user who may see the sample but not do this) is a 403
    page, like the other refusals of the workbench, not a form error."""

    @functools.wraps(fn)
    def run(**kwargs):
        try:
            return fn(**kwargs)
        except Denied as exc:
            raise PermissionDenied(exc.message) from exc

    return run


def visible_sample(request, pk) -> Sample:
    qs = access.samples_visible_to(request.user).select_related(
        "plan__department", "entity__division", "producer", "category", "lab", "sampled_by",
        "report", "duplicate_of__lab", "division")
    return access.get_or_404(qs, pk)


def _timeline(sample: Sample) -> list[Handover]:
    return list(sample.handovers.select_related("given_by", "received_by").order_by(
        "position"))


def _page(request, sample, *, give_form=None, receive_form=None, photo_form=None,
          status=200):
    user = request.user
    handovers = _timeline(sample)
    pending = handovers[-1] if handovers and handovers[-1].received_at is None else None
    holder = services.current_holder_id(sample)
    closed = sample.status in services.RESULT_STATUSES
    scope = scope_of(user)
    failing = []
    if sample.report_id is not None:
        failing = list(sample.report.items.filter(verdict="fail").order_by("position"))
    return render(request, "sampling/sample_detail.html", {
        "sample": sample, "plan": sample.plan, "handovers": handovers, "pending": pending,
        "problems": sample.custody_problems(),
        "photos": sample.photos.select_related("uploaded_by"),
        "failing": failing,
        "can_give": holder == user.pk and not closed,
        "can_receive": pending is not None and pending.received_by_id == user.pk,
        "can_add_photo": (scope.is_regulator and user.department_id == sample.plan.department_id)
        or (scope.role == "lab" and user.lab_id == sample.lab_id),
        "is_regulator": scope.is_regulator or scope.is_admin,
        "give_form": give_form or GiveForm(),
        "receive_form": receive_form or ReceiveForm(initial={}),
        "photo_form": photo_form or PhotoForm(),
    }, status=status)


@signed_in
def sample_detail(request, pk):
    return _page(request, visible_sample(request, pk))


@signed_in
def handover_give(request, pk):
    sample = visible_sample(request, pk)
    if request.method != "POST":
        return redirect("sampling:sample_detail", pk=pk)
    form = GiveForm(request.POST)
    if form.is_valid():
        h = call_service(form, refused_as_403(services.handover_give), actor=request.user,
                         sample_id=sample.pk, to_user_id=form.cleaned_data["to_user"].pk,
                         note=form.cleaned_data["note"])
        if h is not None:
            messages.success(request, _("Handed over to %(user)s and signed (%(digest)s). "
                                        "The sample is theirs once they confirm receipt.")
                             % {"user": h.received_by.get_username(),
                                "digest": h.giver_digest[:16]})
            return redirect("sampling:sample_detail", pk=pk)
    return _page(request, sample, give_form=form)


@signed_in
def handover_receive(request, pk):
    sample = visible_sample(request, pk)
    if request.method != "POST":
        return redirect("sampling:sample_detail", pk=pk)
    pending = sample.handovers.filter(received_at__isnull=True).order_by("-position").first()
    if pending is None:
        messages.info(request, _("No hand-over of this sample is waiting to be received."))
        return redirect("sampling:sample_detail", pk=pk)
    form = ReceiveForm(request.POST)
    if form.is_valid():
        h = call_service(form, refused_as_403(services.handover_receive), actor=request.user,
                         handover_id=pending.pk, **form.cleaned_data)
        if h is not None:
            sample.refresh_from_db()
            problems = sample.custody_problems()
            if h.seal_intact and h.seal_number_seen == sample.seal_number:
                messages.success(request, _("Receipt confirmed and signed (%(digest)s).")
                                 % {"digest": h.receiver_digest[:16]})
            else:
                messages.warning(request, _("Receipt recorded and signed, with the seal as you "
                                            "found it: %(problems)s")
                                 % {"problems": " ".join(problems)})
            return redirect("sampling:sample_detail", pk=pk)
    return _page(request, sample, receive_form=form)


@signed_in
def photo_add(request, pk):
    sample = visible_sample(request, pk)
    if request.method != "POST":
        return redirect("sampling:sample_detail", pk=pk)
    form = PhotoForm(request.POST, request.FILES)
    if form.is_valid():
        photo = call_service(form, refused_as_403(services.sample_photo_add), actor=request.user,
                             sample_id=sample.pk, upload=form.cleaned_data["file"])
        if photo is not None:
            messages.success(request, _("Photo kept with SHA-256 %(sha)s.") % {
                "sha": photo.sha256})
            return redirect("sampling:sample_detail", pk=pk)
    return _page(request, sample, photo_form=form)


@signed_in
def photo_file(request, pk, photo_pk):
    sample = visible_sample(request, pk)
    photo = access.get_or_404(sample.photos.all(), photo_pk)
    return FileResponse(photo.file.open("rb"), filename=photo.file.name.rsplit("/", 1)[-1])


@regulator_required
def sample_list(request, scope):
    form = SampleFilterForm(request.GET or None)
    qs = access.samples_visible_to(request.user).select_related(
        "plan", "entity", "lab", "category", "duplicate_of")
    if form.is_valid():
        d = form.cleaned_data
        if d["q"]:
            q = d["q"].strip()
            qs = qs.filter(Q(code__icontains=q) | Q(batch=q) | Q(entity__name__contains=q)
                           | Q(entity__uscc=q.upper()) | Q(producer__uscc=q.upper()))
        if d["status"]:
            qs = qs.filter(status=d["status"])
        if d["result"]:
            qs = qs.filter(result=d["result"])
    return render(request, "sampling/sample_list.html", {
        "form": form, "page": paginate(request, qs.order_by("-sampled_at", "-id"))})


@signed_in
def lab_samples(request):
    """The lab's page: hand-overs waiting for the user, and the samples assigned to the
    lab (newest first)."""
    scope = scope_of(request.user)
    if scope.role != "lab":
        raise PermissionDenied(_("This page is for the users of a testing laboratory."))
    samples = (Sample.objects.filter(lab_id=scope.org_id)
               .select_related("plan__department", "entity", "category", "duplicate_of")
               .order_by("-sampled_at", "-id"))
    return render(request, "sampling/lab_samples.html", {
        "waiting": list(waiting_for(request.user)),
        "page": paginate(request, samples),
        "to_report": samples.filter(status=SampleStatus.RECEIVED).count(),
    })
