"""REST API of the trace under /api/v1/ (docs/api.md, docs/trace.md): GET /api/v1/trace/
with ``identifier`` (EPC URN or GS1 Digital Link), or ``gtin`` and ``lot``, or
``delivery`` (note number or id), and ``direction`` (both, backward, forward).

Administrators and regulators trace (access.tracer); for everyone else signed in the
endpoint answers 404, as for anything not theirs. Bad input is 400 naming the parameter,
with the same messages as the trace page. The endpoint has its own router (`router`),
mounted by config/api_urls.py.
"""

from __future__ import annotations

from types import SimpleNamespace

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, viewsets
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from zhijian.inspections.api import choice_field

from . import access, tracing
from .trace_views import TraceForm, describe


def _values(*values: str) -> SimpleNamespace:
    """Plain choice values in the shape choice_field takes (values, choices)."""
    return SimpleNamespace(values=list(values), choices=[(v, v) for v in values])


class NodeSerializer(serializers.Serializer):
    identifier = serializers.CharField()
    kind = choice_field(_values("batch", "instance", "container", "class", "other"),
                        "TraceNodeKindEnum")
    gtin = serializers.CharField(help_text="GTIN-14, or empty")
    lot = serializers.CharField()
    serial = serializers.CharField()
    side = choice_field(_values("start", "backward", "forward"), "TraceNodeSideEnum")
    depth = serializers.IntegerField(help_text="hops from the start")
    product = serializers.CharField(help_text="registered product of the GTIN, or empty")
    maker = serializers.CharField(help_text="its maker, or empty")


class LinkSerializer(serializers.Serializer):
    src = serializers.CharField(help_text="input, or child (the goods)")
    dst = serializers.CharField(help_text="output, or parent (the container)")
    event = serializers.IntegerField()
    kind = choice_field(_values("transformation", "aggregation", "association"),
                        "TraceLinkKindEnum")
    quantity = serializers.FloatField(allow_null=True, help_text="of src")
    uom = serializers.CharField()


class PartySerializer(serializers.Serializer):
    type = serializers.CharField(help_text="owning_party, possessing_party or location")
    identifier = serializers.CharField()


class AuditSerializer(serializers.Serializer):
    seq = serializers.IntegerField(help_text="audit entry of the capture")
    hash = serializers.CharField()


class StepSerializer(serializers.Serializer):
    event = serializers.IntegerField()
    event_id = serializers.CharField()
    hash_id = serializers.CharField()
    capture = serializers.IntegerField()
    type = serializers.CharField()
    action = serializers.CharField()
    biz_step = serializers.CharField(help_text="CBV word, or the URI of another vocabulary")
    disposition = serializers.CharField()
    time = serializers.DateTimeField()
    identifier = serializers.CharField()
    role = serializers.CharField()
    quantity = serializers.FloatField(allow_null=True)
    uom = serializers.CharField()
    location = serializers.CharField()
    read_point = serializers.CharField()
    sources = PartySerializer(many=True)
    destinations = PartySerializer(many=True)
    org = serializers.CharField(help_text="capturing organisation: enterprise:<id>, "
                                          "user_unit:<id>, lab:<id>, or empty (administrator)")
    audit = AuditSerializer(allow_null=True)


class StopSerializer(serializers.Serializer):
    identifier = serializers.CharField()
    place = serializers.CharField()
    party = serializers.CharField()
    kind = choice_field(_values("shipped_to", "received", "installed", "held"), "TraceStopKindEnum")
    quantity = serializers.FloatField(allow_null=True)
    uom = serializers.CharField()
    tier = serializers.IntegerField()
    event = serializers.IntegerField()
    time = serializers.DateTimeField()


class PlaceSerializer(serializers.Serializer):
    identifier = serializers.CharField()
    kind = serializers.CharField()
    name = serializers.CharField()
    division = serializers.CharField(allow_null=True)
    address = serializers.CharField()
    public = serializers.BooleanField()


class TraceReportSerializer(serializers.Serializer):
    identifier = serializers.CharField(help_text="the batch")
    number = serializers.CharField()
    lab = serializers.CharField()
    conclusion = serializers.CharField()
    status = serializers.CharField()
    issued_on = serializers.DateField(allow_null=True)
    verify_url = serializers.URLField()


class TraceSerializer(serializers.Serializer):
    start = serializers.ListField(child=serializers.CharField())
    direction = serializers.CharField()
    truncated = serializers.BooleanField()
    nodes = NodeSerializer(many=True)
    links = LinkSerializer(many=True)
    steps = StepSerializer(many=True)
    stops = StopSerializer(many=True)
    places = PlaceSerializer(many=True)
    reports = TraceReportSerializer(many=True)


def _pairs(pairs) -> list[dict]:
    return [{"type": t, "identifier": i} for t, i in pairs]


def payload(result: tracing.TraceResult, direction: str, request) -> dict:
    info = describe(result)
    nodes = []
    order = {"backward": 0, "start": 1, "forward": 2}
    for n in sorted(result.nodes.values(), key=lambda n: (
            order[n.side], -n.depth if n.side == "backward" else n.depth, n.identifier)):
        product = info.products.get(n.gtin)
        nodes.append({"identifier": n.identifier, "kind": n.kind, "gtin": n.gtin, "lot": n.lot,
                      "serial": n.serial, "side": n.side, "depth": n.depth,
                      "product": product.name if product else "",
                      "maker": product.entity.name if product else ""})
    steps = []
    for s in result.steps:
        proof = info.proofs.get(s.capture)
        steps.append({
            "event": s.event, "event_id": s.event_id, "hash_id": s.hash_id,
            "capture": s.capture, "type": s.type, "action": s.action, "biz_step": s.biz_step,
            "disposition": s.disposition, "time": s.time, "identifier": s.identifier,
            "role": s.role, "quantity": s.quantity, "uom": s.uom, "location": s.location,
            "read_point": s.read_point, "sources": _pairs(s.sources),
            "destinations": _pairs(s.destinations), "org": s.org,
            "audit": {"seq": proof.seq, "hash": proof.hash} if proof else None})
    places = [{"identifier": p.identifier, "kind": p.kind, "name": p.name,
               "division": p.division_id, "address": p.address, "public": p.public}
              for _i, p in sorted(result.places.items())]
    reports = [{"identifier": ident, "number": r.number, "lab": r.lab.name,
                "conclusion": r.conclusion, "status": r.status, "issued_on": r.issued_on,
                "verify_url": request.build_absolute_uri(
                    reverse("portal:report_detail", args=[r.number]))}
               for ident in sorted(info.reports) for r in info.reports[ident]]
    return {
        "start": list(result.start), "direction": direction, "truncated": result.truncated,
        "nodes": nodes, "links": [vars(lk) for lk in result.links], "steps": steps,
        "stops": [vars(st) for st in result.stops], "places": places, "reports": reports,
    }


class TraceViewSet(viewsets.ViewSet):
    """Trace goods backward to their inputs and makers and forward to every holder and
    installation site (docs/trace.md)."""

    @extend_schema(
        operation_id="trace",
        parameters=[
            OpenApiParameter("identifier", OpenApiTypes.STR, description=(
                "EPC URN or GS1 Digital Link of a batch, serial number or container")),
            OpenApiParameter("gtin", OpenApiTypes.STR, description="GTIN-13 or GTIN-14"),
            OpenApiParameter("lot", OpenApiTypes.STR, description="lot (batch number)"),
            OpenApiParameter("delivery", OpenApiTypes.STR,
                             description="delivery note number, or delivery id"),
            OpenApiParameter("direction", OpenApiTypes.STR, enum=["both", "backward", "forward"],
                             description="default both"),
        ],
        responses=TraceSerializer)
    def list(self, request):
        access.tracer(request.user)
        form = TraceForm(request.query_params)
        if not form.is_valid():
            errors = {k: list(v) for k, v in form.errors.items()}
            if "__all__" in errors:
                errors["non_field_errors"] = errors.pop("__all__")
            raise exceptions.ValidationError(errors)
        direction = form.cleaned_data["direction"]
        result = tracing.trace(start=form.start, direction=direction)
        return Response(TraceSerializer(payload(result, direction, request)).data)


router = SimpleRouter()
router.register("trace", TraceViewSet, basename="trace")
