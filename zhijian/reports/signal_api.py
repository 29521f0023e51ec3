"""Fake-report signals (虚假报告线索) in the REST API, for regulators:

    GET  /api/v1/report-signals/               the signals in my jurisdiction (filter: kind,
                                               state=open|closed, outcome)
    GET  /api/v1/report-signals/{id}/          one signal, with its explanation
    POST /api/v1/report-signals/{id}/close/    {"note", "outcome": "" | "confirmed" |
                                               "unfounded"}

Reads go through signals.signals_visible_to (404 for absent and not yours), the close
through signals.signal_close (docs/fake-report-signals.md). Its own router, mounted in
zhijian/config/api_urls.py; the authorization matrix is in
tests/reports/test_revocation_ground.py.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import decorators, mixins, serializers, viewsets
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from zhijian.core.api import service_call
from zhijian.inspections.api import choice_field

from . import signals
from .choices import SignalKind, SignalOutcome
from .models import Signal


class FakeReportSignalSerializer(serializers.ModelSerializer):
    """A fake-report signal: a reason to look, not a finding, until a regulator closes it
    with the outcome "confirmed"."""

    kind = choice_field(SignalKind, "SignalKindEnum", read_only=True)
    outcome = choice_field(SignalOutcome, "SignalOutcomeEnum", read_only=True,
                           allow_blank=True)
    lab_name = serializers.CharField(source="lab.name", read_only=True, default=None)
    explanation = serializers.SerializerMethodField()

    class Meta:
        model = Signal
        fields = ["id", "number", "kind", "report", "lab", "lab_name", "explanation",
                  "detail", "found_at", "closed_at", "closed_note", "outcome"]
        read_only_fields = fields

    def get_explanation(self, signal) -> str:
        """In the request's language."""
        return signals.explanation_of(signal)


class SignalCloseSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000, help_text=gettext_lazy(
        "what you looked at and what you found; kept with the signal and in the audit log"))
    outcome = choice_field(SignalOutcome, "SignalOutcomeEnum", required=False,
                           allow_blank=True, default="", help_text=gettext_lazy(
                               "confirmed: the report is false (regulators only; a finding "
                               "on the credit record of the party responsible); unfounded; "
                               "empty: not stated"))


class SignalFilter(filters.FilterSet):
    state = filters.ChoiceFilter(method="by_state", choices=[("open", "open"),
                                                             ("closed", "closed")],
                                 label=gettext_lazy("open or closed"))

    class Meta:
        model = Signal
        fields = ["kind", "outcome", "state"]

    def by_state(self, qs, name, value):
        return qs.filter(closed_at__isnull=(value == "open"))


class SignalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Fake-report signals for regulators whose jurisdiction covers the lab or the
    producer, and administrators (anyone else sees none); closing one records a note and
    an optional outcome."""

    http_method_names = ["get", "post", "head", "options"]
    serializer_class = FakeReportSignalSerializer
    filterset_class = SignalFilter
    ordering_fields = ["found_at", "closed_at"]

    def get_queryset(self):
        # Anyone else sees none (an empty list; a signal's id is 404).
        return signals.signals_visible_to(self.request.user).select_related("lab").order_by(
            "-found_at", "-id")

    @extend_schema(request=SignalCloseSerializer, responses={200: FakeReportSignalSerializer})
    @decorators.action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def close(self, request, pk=None):
        """Close the signal with a note and, optionally, the outcome."""
        signal = self.get_object()
        ser = SignalCloseSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        service_call(signals.signal_close, actor=request.user, signal_id=signal.pk,
                     note=ser.validated_data["note"], outcome=ser.validated_data["outcome"])
        return Response(FakeReportSignalSerializer(self.get_queryset().get(pk=signal.pk)).data)


router = SimpleRouter()
router.register("report-signals", SignalViewSet, basename="report-signal")
