from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from zhijian.core import errors

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/v1/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include("zhijian.config.api_urls")),
    path("accounts/", include("zhijian.accounts.urls")),
    path("work/inspections/dashboard/",
         include(("zhijian.inspections.dashboard_urls", "inspections_dashboard"))),
    path("work/inspections/", include("zhijian.inspections.urls")),
    path("work/sampling/", include("zhijian.sampling.urls")),
    path("work/reports/signals/", include("zhijian.reports.signal_urls")),
    path("work/reports/", include("zhijian.reports.urls")),
    path("work/procurement/", include("zhijian.procurement.urls")),
    path("work/trace/", include("zhijian.traceability.trace_urls")),
    path("work/traceability/", include("zhijian.traceability.web_urls")),
    path("work/recalls/", include("zhijian.recalls.urls")),
    path("work/credit/", include("zhijian.credit.urls")),
    path("work/", include("zhijian.web.urls")),
    path("epcis/", include("zhijian.traceability.urls")),
    # GS1 Digital Link paths (/01/<GTIN>/10/<lot>, ...): the public trace page a product's
    # QR label opens.
    path("", include("zhijian.traceability.public_urls")),
    path("recalls/", include("zhijian.recalls.public_urls")),
    path("credit/", include("zhijian.credit.public_urls")),
    path("", include("zhijian.portal.urls")),
]

handler404 = errors.handler404
handler500 = errors.handler500
