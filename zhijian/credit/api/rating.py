"""REST API of the credit class under /api/v1/ (docs/credit-rating.md, "API"):

    GET credit/ratings/?risk_class=D        the firms the caller may see, with class and score
    GET credit/ratings/<uscc>/              the rating explained (records counted or not and
                                            why, hard rules, rule versions, history)
    GET credit/ratings/<uscc>/?as_of=DAY    ... plus the rating reproduced as of that day

Regulators see the firms of their jurisdiction, a firm its own, anyone else nothing
(a firm one may not see is 404, like one that does not exist).
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, serializers, viewsets
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from zhijian.core.access import get_or_404
from zhijian.registry.models import MarketEntity

from .. import access, scoring
from ..models import RatingChange
from ..services import rating as svc
from ..views.rating import CLASSES, rule_rows_for

router = SimpleRouter()


class CreditRatingListSerializer(serializers.ModelSerializer):
    # the credit class (MarketEntity.credit_class): the rating's, or the initial class
    risk_class = serializers.CharField(source="credit_class", read_only=True)
    score = serializers.IntegerField(source="credit_rating.score", read_only=True,
                                     allow_null=True, default=None)
    rated_on = serializers.DateField(source="credit_rating.on", read_only=True,
                                     allow_null=True, default=None)
    trigger = serializers.CharField(source="credit_rating.trigger", read_only=True,
                                    allow_null=True, default=None)
    computed_at = serializers.DateTimeField(source="credit_rating.computed_at",
                                            read_only=True, allow_null=True, default=None)

    class Meta:
        model = MarketEntity
        fields = ["uscc", "name", "division", "risk_class", "score", "rated_on", "trigger",
                  "computed_at"]
        read_only_fields = fields


class CreditRatingContributionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    date = serializers.DateField()
    source = serializers.CharField()
    counted = serializers.BooleanField()
    points = serializers.IntegerField()
    reason = serializers.ChoiceField(choices=scoring.REASONS, allow_null=True)
    weight = serializers.IntegerField(allow_null=True)
    weight_from = serializers.CharField(allow_null=True)
    expires_on = serializers.DateField(allow_null=True)
    repaired_on = serializers.DateField(allow_null=True)


class CreditRatingHardRuleSerializer(serializers.Serializer):
    id = serializers.CharField()
    cap = serializers.CharField()
    at_least = serializers.IntegerField()
    records = serializers.ListField(child=serializers.IntegerField())


class CreditRatingExplanationSerializer(serializers.Serializer):
    risk_class = serializers.CharField()
    score = serializers.IntegerField()
    on = serializers.DateField()
    raw_score = serializers.IntegerField()
    score_class = serializers.CharField()
    versions = serializers.DictField(child=serializers.CharField())
    hard_rules = CreditRatingHardRuleSerializer(many=True)
    contributions = CreditRatingContributionSerializer(many=True)


class CreditRatingRuleSerializer(serializers.Serializer):
    key = serializers.CharField()
    version = serializers.CharField()
    effective = serializers.DateField()
    reference = serializers.CharField()


class CreditRatingChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = RatingChange
        fields = ["on", "computed_at", "from_class", "to_class", "from_score", "to_score",
                  "versions", "trigger", "counted"]
        read_only_fields = fields


class CreditRatingAsOfSerializer(serializers.Serializer):
    on = serializers.DateField()
    rating = CreditRatingExplanationSerializer()
    rules = CreditRatingRuleSerializer(many=True)
    stored = CreditRatingChangeSerializer(allow_null=True)
    matches = serializers.BooleanField(allow_null=True)


class CreditRatingDetailSerializer(serializers.Serializer):
    uscc = serializers.CharField()
    name = serializers.CharField()
    risk_class = serializers.CharField()
    score = serializers.IntegerField(allow_null=True)
    rated_on = serializers.DateField(allow_null=True)
    explanation = CreditRatingExplanationSerializer()
    rules = CreditRatingRuleSerializer(many=True)
    history = CreditRatingChangeSerializer(many=True)
    as_of = CreditRatingAsOfSerializer(allow_null=True)


def _explained(rating: scoring.Rating) -> dict:
    return {"risk_class": rating.risk_class, "score": rating.score, "on": rating.on,
            "raw_score": rating.raw_score, "score_class": rating.score_class,
            "versions": dict(rating.versions),
            "hard_rules": [{"id": h.id, "cap": h.cap, "at_least": h.at_least,
                            "records": list(h.records)} for h in rating.hard_rules],
            "contributions": [vars(c) for c in rating.contributions]}


def _as_of_param(request) -> dt.date | None:
    raw = request.query_params.get("as_of")
    if raw is None:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise exceptions.ValidationError({"as_of": [_(
            "Give the day as YYYY-MM-DD, for example 2026-06-30.")]}) from None


class CreditRatingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                          viewsets.GenericViewSet):
    """The credit class of market entities, explained."""

    serializer_class = CreditRatingListSerializer
    lookup_field = "uscc"
    filter_backends: list = []

    def get_queryset(self):
        qs = access.entities_visible_to(self.request.user, MarketEntity.objects.all())
        return qs.with_credit_class().select_related("credit_rating").order_by("uscc")

    @extend_schema(parameters=[OpenApiParameter(
        "risk_class", OpenApiTypes.STR, enum=list(CLASSES),
        description="only the firms of this class")])
    def list(self, request, *args, **kwargs):
        wanted = request.query_params.get("risk_class")
        qs = self.get_queryset()
        if wanted:
            if wanted not in CLASSES:
                raise exceptions.ValidationError({"risk_class": [_(
                    "Choose one of the classes: %(classes)s.") % {
                    "classes": ", ".join(CLASSES)}]})
            qs = qs.filter(credit_class=wanted)
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(responses=CreditRatingDetailSerializer, parameters=[OpenApiParameter(
        "as_of", OpenApiTypes.DATE,
        description="also reproduce the rating as of this past day (YYYY-MM-DD)")])
    def retrieve(self, request, *args, **kwargs):
        day = _as_of_param(request)
        entity = get_or_404(self.get_queryset(), kwargs["uscc"], field="uscc")
        today = timezone.localdate()
        live = svc.rating_explain(entity, on=today)
        stored = getattr(entity, "credit_rating", None)
        as_of = None
        if day is not None:
            try:
                past = svc.rating_as_of(entity, day)
            except DjangoValidationError as exc:
                raise exceptions.ValidationError(exc.message_dict) from exc
            as_of = {"on": past.on, "rating": _explained(past.rating),
                     "rules": rule_rows_for(past.on, past.rating.versions),
                     "stored": past.stored, "matches": past.matches}
        data = {
            "uscc": entity.uscc, "name": entity.name, "risk_class": entity.credit_class,
            "score": stored.score if stored else None,
            "rated_on": stored.on if stored else None,
            "explanation": _explained(live), "rules": rule_rows_for(today, live.versions),
            "history": list(RatingChange.objects.filter(entity=entity).order_by(
                "-computed_at", "-id")[:50]),
            "as_of": as_of}
        return Response(CreditRatingDetailSerializer(data).data)


router.register("credit/ratings", CreditRatingViewSet, basename="credit-rating")
