"""Public credit pages at /credit/ and the credit service token pages at
/work/credit/tokens/ (docs/credit-public.md).

- Anyone: search a firm by name or USCC (/credit/), its public credit report
  (/credit/<uscc>/, print-friendly, also as JSON in the API) and the firms on the
  serious-dishonesty list now (/credit/blacklist/). What a report shows is decided in
  zhijian.credit.export.public_report, the same data as the API gives.
- Administrators: the keys of third-party credit services — list, create (the key is
  shown once), revoke (zhijian.credit.tokens).
"""

from __future__ import annotations

import functools

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from zhijian.core.access import get_or_404, scope_of
from zhijian.core.identifiers import normalise_uscc
from zhijian.registry.models import MarketEntity
from zhijian.web.common import call_service, window

from .. import export, tokens
from ..choices import RecordKind
from ..models import BlacklistEntry, ServiceToken

SEARCH_PAGE_SIZE = 20
LIST_PAGE_SIZE = 50
MIN_QUERY = 2


# --- public ------------------------------------------------------------------------------------

def _public_entities():
    fields = [f for f in MarketEntity.PUBLIC_FIELDS if f != "division"]
    return (MarketEntity.objects.select_related("division")
            .only(*fields, "division__code", "division__name", "division__name_en")
            .order_by("uscc"))


def home(request):
    """Search a firm to open its public credit report."""
    q = request.GET.get("q", "").strip()[:60]
    page = error = None
    if q and len(q) < MIN_QUERY:
        error = _("Enter at least %(n)s characters.") % {"n": MIN_QUERY}
    elif q:
        page = window(request, _public_entities().search(q), per_page=SEARCH_PAGE_SIZE)
    return render(request, "credit/public_home.html", {
        "q": q, "page": page, "error": error, "min_query": MIN_QUERY})


def report(request, uscc):
    entity = get_or_404(MarketEntity.objects.select_related("division"),
                        normalise_uscc(uscc), field="uscc")
    data = export.public_report(entity)
    for row in data["records"]:
        code = row["kind"]["code"]
        row["kind_display"] = RecordKind(code).label if code in RecordKind.values else code
    return render(request, "credit/public_report.html", {"entity": entity, "report": data})


def blacklist(request):
    """The firms on the serious-dishonesty list today (published only while listed)."""
    today = timezone.localdate()
    qs = (BlacklistEntry.objects.listed().filter(listed_on__lte=today)
          .exclude(listed_until__lte=today)
          .select_related("entity", "department")
          .only("listed_on", "listed_until", "decision_reasons", "entity__uscc",
                "entity__name", "department__name")
          .order_by("-listed_on", "-id"))
    return render(request, "credit/public_blacklist.html", {
        "page": window(request, qs, per_page=LIST_PAGE_SIZE), "today": today})


# --- credit service tokens (administrators) ------------------------------------------------------

def admin_required(view):
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not scope_of(request.user).is_admin:
            raise PermissionDenied(_("This page is for administrators."))
        return view(request, *args, **kwargs)

    return wrapper


class TokenForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Service"), max_length=120, help_text=gettext_lazy(
        "The third-party credit service or platform that will use the key."))
    organisation_uscc = forms.CharField(
        label=gettext_lazy("Organisation USCC"), max_length=18, required=False,
        help_text=gettext_lazy("Unified social credit code of the organisation running it."))
    contact = forms.CharField(label=gettext_lazy("Contact"), max_length=120, required=False,
                              help_text=gettext_lazy("Who answers for the key: name, phone."))
    expires_on = forms.DateField(
        label=gettext_lazy("Expires on"), required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("The key stops working on this day; empty: until revoked."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control")


class RevokeForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=500, required=False)


@admin_required
def token_list(request):
    today = timezone.localdate()
    qs = ServiceToken.objects.select_related("created_by").order_by("-created_at", "-id")
    page = window(request, qs, per_page=LIST_PAGE_SIZE)
    for t in page.items:
        t.state = tokens.token_state(t, today)
    return render(request, "credit/token_list.html", {"page": page})


@never_cache
@admin_required
def token_create(request):
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = call_service(form, tokens.token_create, actor=request.user,
                              **form.cleaned_data)
        if result is not None:
            token, raw = result
            # The key is shown on this response only: no redirect, nothing cached.
            return render(request, "credit/token_created.html", {"token": token, "raw": raw})
    return render(request, "credit/token_form.html", {"form": form})


@require_POST
@admin_required
def token_revoke(request, pk):
    token = get_or_404(ServiceToken.objects.all(), pk)
    form = RevokeForm(request.POST)
    form.is_valid()
    tokens.token_revoke(actor=request.user, token_id=token.pk,
                        reason=form.cleaned_data.get("reason", ""))
    messages.success(request, _("The key of %(name)s was revoked.") % {"name": token.name})
    return redirect("credit:token_list")
