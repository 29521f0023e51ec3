"""/api/v1/: one router for every register; anything else under it is a JSON 404."""

from django.urls import re_path
from rest_framework.routers import DefaultRouter

from zhijian.core.api import CheckpointViewSet, PublicKeyViewSet
from zhijian.core.errors import api_not_found
from zhijian.credit import api as credit
from zhijian.inspections import api as inspections
from zhijian.procurement import api as procurement
from zhijian.recalls import api as recalls
from zhijian.registry import api as registry
from zhijian.reports import api as reports
from zhijian.reports import public_api as reports_public
from zhijian.reports import signal_api as report_signals
from zhijian.sampling import api as sampling
from zhijian.traceability import api as trace

router = DefaultRouter()
router.register("divisions", registry.DivisionViewSet, basename="division")
router.register("categories", registry.CategoryViewSet, basename="category")
router.register("standards", registry.StandardViewSet, basename="standard")
router.register("departments", registry.DepartmentViewSet, basename="department")
router.register("responsibilities", registry.ResponsibilityViewSet, basename="responsibility")
router.register("entities", registry.EntityViewSet, basename="entity")
router.register("products", registry.ProductViewSet, basename="product")
router.register("labs", registry.LabViewSet, basename="lab")
router.register("user-units", registry.UserUnitViewSet, basename="userunit")
router.register("inspectors", registry.InspectorViewSet, basename="inspector")
router.register("public/entities", registry.PublicEntityViewSet, basename="public-entity")
router.register("public/audit/checkpoints", CheckpointViewSet, basename="checkpoint")
router.register("public/keys", PublicKeyViewSet, basename="publickey")

urlpatterns = [
    *router.urls,
    *inspections.router.urls,  # random inspections: their own router (inspections/api.py)
    *sampling.router.urls,  # supervisory sampling (sampling/api.py)
    *reports.router.urls,  # test reports, keys, instruments, hazards (reports/api.py)
    *reports_public.router.urls,  # public report verification (reports/public_api.py)
    *report_signals.router.urls,  # fake-report signals for regulators (reports/signal_api.py)
    *procurement.router.urls,  # supplier lists, deliveries, acceptance (procurement/api.py)
    *recalls.router.urls,  # recalls, their items and notices (recalls/api.py)
    *trace.router.urls,  # trace backward and forward (traceability/api.py)
    *[u for r in credit.routers for u in r.urls],  # quality credit (credit/api/)
    # Last: an unknown path under /api/v1/ answers in the API's error format even with
    # DEBUG on (Django's technical 404 page is HTML). Only paths ending in "/" match, so
    # CommonMiddleware's APPEND_SLASH redirect still works for known endpoints.
    re_path(r"^.*/$", api_not_found, name="api-not-found"),
]
