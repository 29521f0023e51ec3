"""The public portal: what anyone may see without signing in. Only disclosed fields are
read (MarketEntity.PUBLIC_FIELDS); large lists are paged without COUNT(*)."""

from __future__ import annotations

from django.db.models import Count, Q
from django.shortcuts import render
from django.utils.translation import gettext as _

from zhijian.core.audit import checkpoint_statement
from zhijian.core.models import AuditCheckpoint, PublicKey
from zhijian.registry import access
from zhijian.registry.models import MarketEntity
from zhijian.web.common import window
from zhijian.web.forms import SimpleFilterForm
from zhijian.web.matrix import matrix_grid
from zhijian.web.views.workbench import department_queryset

SEARCH_PAGE_SIZE = 20
MIN_QUERY = 2


def home(request):
    return render(request, "portal/home.html", {
        "lab_count": access.labs_visible_to(None).count(),
        "department_count": access.departments_visible_to(None).count(),
        "latest_checkpoint": AuditCheckpoint.objects.order_by("-seq").first(),
    })


def _public_entities():
    fields = [f for f in MarketEntity.PUBLIC_FIELDS if f != "division"]
    return (MarketEntity.objects.select_related("division")
            .only(*fields, "division__code", "division__name", "division__name_en")
            .order_by("uscc"))


def search(request):
    q = request.GET.get("q", "").strip()[:60]
    page = error = None
    if q and len(q) < MIN_QUERY:
        error = _("Enter at least %(n)s characters.") % {"n": MIN_QUERY}
    elif q:
        page = window(request, _public_entities().search(q), per_page=SEARCH_PAGE_SIZE)
    return render(request, "portal/search.html", {
        "q": q, "page": page, "error": error, "min_query": MIN_QUERY,
    })


def labs(request):
    form = SimpleFilterForm(request.GET or None)
    qs = access.labs_visible_to(None).select_related("division")
    if form.is_valid() and form.cleaned_data["q"]:
        q = form.cleaned_data["q"]
        qs = qs.filter(Q(name__contains=q) | Q(cma_number__startswith=q)
                       | Q(cnas_number__startswith=q))
    qs = qs.annotate(scope_lines=Count("scopes")).order_by("name")
    return render(request, "portal/labs.html", {"form": form, "page": window(request, qs)})


def lab_detail(request, pk):
    lab = access.get_or_404(access.labs_visible_to(None).select_related("division"), pk)
    scopes = access.scopes_visible_to(None).filter(lab=lab).select_related("standard")
    return render(request, "portal/lab_detail.html", {"lab": lab, "scopes": scopes})


def departments(request):
    form, qs = department_queryset(request)
    return render(request, "portal/departments.html", {"form": form, "page": window(request, qs)})


def matrix(request):
    return render(request, "portal/matrix.html", matrix_grid(problems_only=request.GET.get("problems") == "1"))


def audit(request):
    checkpoints = window(request, AuditCheckpoint.objects.order_by("-seq"), per_page=50)
    return render(request, "portal/audit.html", {
        "page": checkpoints,
        "keys": PublicKey.objects.order_by("created_at"),
        "statement_format": checkpoint_statement("<seq>", "<hash>"),
    })
