"""The public recall notices at /recalls/ (docs/recalls.md, "What is public").

Opened and completed recalls are public: a recall of a defective product is announced to
the public by law (《中华人民共和国产品质量法》; the 2017 provincial opinions make defect
recall part of the producer's main responsibility, M2.1). The notice names the product,
the maker, the batch and its GTIN, why it is recalled and how serious the defect is, the
responsible department and the deadline, and how far the recall has come as a share of
items closed. It names the places reached only where the place is public in the trace
directory (an installation site such as a metro station, Place.public); it shows no
quantities and no other firm, since who bought how much from whom is business
information of the firms involved. Proposals and dismissed proposals are not public.
"""

from __future__ import annotations

from django.db.models import Count, Q
from django.shortcuts import render

from zhijian.core.access import get_or_404
from zhijian.web.common import paginate

from .choices import CLOSED_ITEM_STATUSES
from .models import Recall, RecallItem


def _public():
    closed = Q(items__status__in=CLOSED_ITEM_STATUSES)
    return Recall.objects.public().select_related("maker", "department", "category").annotate(
        item_count=Count("items", distinct=True),
        closed_count=Count("items", filter=closed, distinct=True))


def recall_list(request):
    qs = _public().order_by("-opened_at", "-id")
    q = (request.GET.get("q") or "").strip()[:60]
    if q:
        qs = qs.filter(Q(number__icontains=q) | Q(lot__icontains=q)
                       | Q(product_name__icontains=q) | Q(maker__name__icontains=q))
    return render(request, "recalls/public_list.html", {"page": paginate(request, qs), "q": q})


def recall_detail(request, number):
    recall = get_or_404(_public(), number, field="number")
    places = (RecallItem.objects.filter(recall=recall, place_ref__public=True)
              .values("place_ref__name", "place_ref__division__name", "place_ref__kind")
              .distinct().order_by("place_ref__division__name", "place_ref__name"))
    return render(request, "recalls/public_detail.html", {
        "recall": recall, "places": list(places),
        "batches": list(recall.batches.values_list("identifier", flat=True)),
        "closed_share": (None if not recall.item_count
                         else round(100 * recall.closed_count / recall.item_count, 1)),
    })
