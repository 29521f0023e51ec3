"""Pages of the credit class (docs/credit-rating.md), under /work/credit/:

- credit:home        regulators: firms by class in their jurisdiction, filterable, and
                     the recent class changes; an enterprise is sent to its own file;
- credit:entity      the credit file of one firm: class, score, every record counted or
                     not and why, hard rules, the rule versions with their legal sources,
                     the history, and the rating as of any past day;
- credit:mine        an enterprise's own credit file;
- credit:supervision differentiated supervision per class (ratio, priority, measures);
- credit:supervision_sampling  the firms in a sampling plan's scope by priority.

What a page shows goes through access.py (regulators: their jurisdiction; a firm: its
own file; anyone else: 404).
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, F, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhijian.core import rules
from zhijian.core.access import get_or_404, scope_of
from zhijian.registry.models import MarketEntity, ProductCategory
from zhijian.web.common import paginate, regulator_required

from .. import access, scoring
from ..choices import RecordKind
from ..models import CreditRating, RatingChange
from ..services import rating as svc

CLASSES = ("A", "B", "C", "D")

#: Supervision measure keys of the rule credit.supervision -> what they mean.
MEASURES = {
    "ratio_low": _("Lower random-inspection ratio and frequency"),
    "no_disturbance": _("No inspection without cause (complaints and referred cases only)"),
    "self_declaration": _("Notification-and-commitment and incomplete-file acceptance "
                          "privileges"),
    "fast_track": _("Fast track in licensing and other services"),
    "ratio_routine": _("Routine random-inspection ratio and frequency"),
    "routine_sampling": _("Supervisory sampling as planned"),
    "ratio_raised": _("Raised random-inspection ratio and frequency"),
    "priority_sampling": _("Priority in supervisory sampling"),
    "interview": _("Interview with the legal representative where needed"),
    "no_self_declaration": _("No notification-and-commitment privileges"),
    "every_year": _("Inspected every year"),
    "on_site": _("On-site inspection"),
    "no_fast_track": _("No fast track or incomplete-file acceptance"),
    "joint_punishment_check": _("Joint punishment measures checked in every procedure"),
}

REASONS = {
    None: _("counted"),
    scoring.DUPLICATE: _("given twice; counted once"),
    scoring.FUTURE_DATED: _("dated after the day of the rating"),
    scoring.UNKNOWN_KIND: _("not a kind of the rules in force"),
    scoring.EXPIRED: _("expired"),
    scoring.REPAIRED: _("credit repaired"),
}

HARD_RULES = {
    "severe_open": _("An open serious-dishonesty record makes the class D"),
    "heavy_penalty_open": _("An open heavy administrative penalty caps the class at C"),
}


class AsOfForm(forms.Form):
    as_of = forms.DateField(label=_("Rating as of"), widget=forms.DateInput(
        attrs={"type": "date", "class": "form-control"}))


class ClassFilterForm(forms.Form):
    risk_class = forms.ChoiceField(label=_("Class"), required=False, choices=[
        ("", _("All classes"))] + [(c, c) for c in CLASSES], widget=forms.Select(
        attrs={"class": "form-select"}))
    q = forms.CharField(label=_("Name or USCC"), required=False, max_length=60,
                        widget=forms.TextInput(attrs={"class": "form-control"}))


def _login(request):
    if not request.user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    return None


def _visible_entities(user):
    return access.entities_visible_to(user, MarketEntity.objects.all())


# --- overview -------------------------------------------------------------------------------

def home(request):
    """Regulators: the firms of their jurisdiction by class. A firm: its own file."""
    if (to_login := _login(request)) is not None:
        return to_login
    scope = scope_of(request.user)
    if scope.role == "enterprise":
        return redirect("credit:mine")
    if not (scope.is_admin or scope.is_regulator):
        raise PermissionDenied(_("This page is for regulators."))
    entities = _visible_entities(request.user)
    # the credit class: the rating's, or the initial class of a firm not rated yet
    counts = dict(entities.with_credit_class().order_by().values_list("credit_class")
                  .annotate(n=Count("pk")))
    form = ClassFilterForm(request.GET or None)
    qs = entities.with_credit_class().select_related("credit_rating", "division").order_by(
        "credit_class", "uscc")
    if form.is_valid():
        if form.cleaned_data["risk_class"]:
            qs = qs.filter(credit_class=form.cleaned_data["risk_class"])
        if term := form.cleaned_data["q"].strip():
            qs = qs.filter(Q(name__contains=term) | Q(uscc__startswith=term.upper()))
    changes = (RatingChange.objects.filter(entity__in=entities).exclude(
        from_class="").exclude(from_class=F("to_class"))
        .select_related("entity").order_by("-computed_at", "-id")[:20])
    return render(request, "credit/home.html", {
        "classes": [(c, counts.get(c, 0)) for c in CLASSES],
        "total": sum(counts.values()), "form": form, "page": paginate(request, qs),
        "changes": list(changes), "nav_app": "credit"})


# --- the credit file ------------------------------------------------------------------------

def rule_rows_for(on: dt.date, versions: dict) -> list[dict]:
    rows = []
    for key in [*versions, "credit.supervision", "inspections.default_ratios"]:
        try:
            r = rules.get(key, on)
        except rules.RuleError:
            continue
        rows.append({"key": key, "version": r.version, "effective": r.effective,
                     "reference": r.reference})
    return rows


def _contributions(rating: scoring.Rating) -> list[dict]:
    kinds = dict(RecordKind.choices)
    return [{"id": c.id, "kind": c.kind, "kind_label": kinds.get(c.kind, c.kind),
             "date": c.date, "source": c.source, "counted": c.counted, "points": c.points,
             "reason": c.reason, "reason_label": REASONS.get(c.reason, c.reason),
             "weight": c.weight, "weight_from": c.weight_from, "expires_on": c.expires_on,
             "repaired_on": c.repaired_on} for c in rating.contributions]


def _hard(rating: scoring.Rating) -> list[dict]:
    return [{"id": h.id, "label": HARD_RULES.get(h.id, h.id), "cap": h.cap,
             "at_least": h.at_least, "records": list(h.records)} for h in rating.hard_rules]


def _file(request, entity, *, own: bool):
    today = timezone.localdate()
    stored = CreditRating.objects.filter(entity=entity).first()
    live = svc.rating_explain(entity, on=today)
    form = AsOfForm(request.GET if "as_of" in request.GET else None)
    as_of = None
    status = 200
    if form.is_bound and form.is_valid():
        try:
            as_of = svc.rating_as_of(entity, form.cleaned_data["as_of"])
        except ValidationError as exc:
            for msg in exc.message_dict.get("as_of", exc.messages):
                form.add_error("as_of", msg)
            status = 400
    elif form.is_bound:
        status = 400
    history = list(RatingChange.objects.filter(entity=entity).order_by("-computed_at", "-id")
                   [:50])
    return render(request, "credit/entity_detail.html", {
        "entity": entity, "stored": stored, "live": live,
        "contributions": _contributions(live), "hard": _hard(live),
        "rule_rows": rule_rows_for(today, live.versions), "history": history, "form": form,
        "as_of": as_of, "as_of_contributions": _contributions(as_of.rating) if as_of else [],
        "as_of_hard": _hard(as_of.rating) if as_of else [],
        "as_of_rules": rule_rows_for(as_of.on, as_of.rating.versions) if as_of else [],
        "own": own, "today": today,
        "stale": stored is not None and (stored.risk_class, stored.score) != (
            live.risk_class, live.score),
        "nav_app": "credit"}, status=status)


def entity_detail(request, uscc):
    if (to_login := _login(request)) is not None:
        return to_login
    entity = get_or_404(_visible_entities(request.user).select_related("division"), uscc,
                        field="uscc")
    return _file(request, entity, own=access.is_own_entity(request.user, entity))


def mine(request):
    """An enterprise's own credit file; regulators go to the overview."""
    if (to_login := _login(request)) is not None:
        return to_login
    scope = scope_of(request.user)
    if scope.role != "enterprise":
        if scope.is_admin or scope.is_regulator:
            return redirect("credit:home")
        raise Http404
    entity = MarketEntity.objects.select_related("division").get(pk=scope.org_id)
    return _file(request, entity, own=True)


# --- differentiated supervision -------------------------------------------------------------

def supervision_rows(on: dt.date, counts: dict) -> list[dict]:
    """Per class: the inspection ratio, the sampling priority and the measures in force."""
    ratios = rules.get("inspections.default_ratios", on).value
    per_class = rules.get("credit.supervision", on).value
    return [{"class": c, "ratio_bp": ratios.get(c), "ratio_pct": ratios.get(c, 0) / 100,
             "priority": per_class.get(c, {}).get("priority"),
             "measures": [MEASURES.get(m, m) for m in per_class.get(c, {}).get("measures", [])],
             "count": counts.get(c, 0)} for c in CLASSES]


@regulator_required
def supervision(request, scope):
    today = timezone.localdate()
    counts = dict(_visible_entities(request.user).with_credit_class().order_by()
                  .values_list("credit_class").annotate(n=Count("pk")))
    return render(request, "credit/supervision.html", {
        "rows": supervision_rows(today, counts),
        "rule_rows": rule_rows_for(today, {}), "nav_app": "credit"})


def plan_firms(plan):
    """The firms in a sampling plan's scope: its named firms, else the firms of its
    categories (and their sub-categories) in its divisions; sampling priority first
    (credit.supervision), then USCC."""
    from django.db.models import Case, IntegerField, Value, When

    named = plan.entities.all()
    if named.exists():
        qs = MarketEntity.objects.filter(pk__in=named.values("pk"))
    else:
        codes = ProductCategory.objects.expand(plan.categories.values_list("code", flat=True))
        q = Q()
        for prefix in plan.division_prefixes or [""]:
            q |= Q(division__code__startswith=prefix)
        qs = MarketEntity.objects.filter(q).filter(pk__in=MarketEntity.categories.through
                                                   .objects.filter(productcategory__code__in=codes)
                                                   .values("marketentity_id"))
    per_class = rules.get("credit.supervision", timezone.localdate()).value
    priority = Case(*[When(credit_class=c, then=Value(v["priority"]))
                      for c, v in per_class.items()], default=Value(99),
                    output_field=IntegerField())
    return qs.with_credit_class().annotate(priority=priority).select_related("credit_rating", "division").order_by(
        "priority", "uscc")


@regulator_required
def supervision_sampling(request, pk, scope):
    from zhijian.sampling import access as sampling_access

    plan = get_or_404(sampling_access.plans_visible_to(request.user).select_related(
        "department"), pk)
    return render(request, "credit/supervision_sampling.html", {
        "plan": plan, "page": paginate(request, plan_firms(plan)), "nav_app": "credit"})
