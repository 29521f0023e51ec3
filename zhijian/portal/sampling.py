"""Public pages of supervisory sampling (抽检结果公示, MISSION M3.2/M3.3): the published
sampling results, searchable by firm name or USCC, product category, division, result
and date, with the failing items of nonconforming results; and one result with the link
to its test report's public verification page. Reads go through
`zhijian.sampling.access.results_public` only."""

from __future__ import annotations

from django import forms
from django.db.models import Prefetch, Q
from django.shortcuts import render
from django.urls import path
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from zhijian.core.models import Division
from zhijian.registry.models import MarketEntity, ProductCategory
from zhijian.reports.models import ReportItem
from zhijian.sampling import access
from zhijian.sampling.choices import Result
from zhijian.web.common import window
from zhijian.web.forms import BootstrapMixin, DateInput

PAGE_SIZE = 20


def _localised(obj, field: str = "name") -> str:
    value = getattr(obj, f"{field}_en", "") if get_language() == "en" else ""
    return value or getattr(obj, field)


class SamplingResultFilterForm(BootstrapMixin, forms.Form):
    q = forms.CharField(label=_("Enterprise name or unified social credit code"),
                        required=False, max_length=60)
    category = forms.ChoiceField(label=_("Product category"), required=False)
    division = forms.ChoiceField(label=_("City or county"), required=False)
    result = forms.ChoiceField(label=_("Result"), required=False, choices=[
        ("", _("All results")), (Result.PASS, Result.PASS.label),
        (Result.FAIL, Result.FAIL.label)])
    result_from = forms.DateField(label=_("Result from"), required=False, widget=DateInput())
    result_to = forms.DateField(label=_("Result until"), required=False, widget=DateInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", _("All categories"))] + [
            (c.code, "\u2003" * c.code.count(".") + _localised(c))
            for c in ProductCategory.objects.order_by("code").only("code", "name", "name_en")]
        lang = get_language()
        self.fields["division"].choices = [("", _("All of Shaanxi"))] + [
            (d.code, ("\u2003" if d.level == "county" else "") + d.display_name(lang))
            for d in Division.objects.current().exclude(level="province")
            .only("code", "name", "name_en", "level")]

    def clean(self):
        data = super().clean()
        start, end = data.get("result_from"), data.get("result_to")
        if start and end and end < start:
            self.add_error("result_to", _("The end of the range is before its start."))
        return data


def results_filter(qs, data: dict):
    """Apply the filters (cleaned form data) to a queryset of samples."""
    if q := data.get("q"):
        firms = MarketEntity.objects.search(q).values("pk")
        qs = qs.filter(Q(entity__in=firms) | Q(producer__in=firms))
    if code := data.get("category"):
        qs = qs.filter(category__code__in=ProductCategory.objects.expand([code]))
    if code := data.get("division"):
        qs = qs.filter(division__code__startswith=Division(code=code).prefix)
    if result := data.get("result"):
        qs = qs.filter(result=result)
    if start := data.get("result_from"):
        qs = qs.filter(result_on__gte=start)
    if end := data.get("result_to"):
        qs = qs.filter(result_on__lte=end)
    return qs


def _with_failing(qs):
    return qs.select_related("entity", "producer", "category", "division", "plan__department",
                             "report").prefetch_related(Prefetch(
        "report__items", to_attr="failing",
        queryset=ReportItem.objects.filter(verdict="fail").order_by("position")))


def sampling_results(request):
    form = SamplingResultFilterForm(request.GET or None)
    qs = _with_failing(access.results_public()).order_by("-result_on", "-id")
    if form.is_bound:
        qs = results_filter(qs, form.cleaned_data) if form.is_valid() else qs.none()
    return render(request, "portal/sampling_results.html", {
        "form": form, "page": window(request, qs, per_page=PAGE_SIZE),
        "filtered": form.is_bound})


def sampling_result_detail(request, pk):
    sample = access.get_or_404(_with_failing(access.results_public()), pk)
    return render(request, "portal/sampling_result_detail.html", {"s": sample})


urlpatterns = [
    path("sampling-results/", sampling_results, name="sampling_results"),
    path("sampling-results/<int:pk>/", sampling_result_detail, name="sampling_result_detail"),
]
