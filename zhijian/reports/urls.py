"""Test reports in the workbench and the laboratory workspace, mounted at /work/reports/."""

from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("", views.report_list, name="report_list"),
    path("new/", views.report_create, name="report_create"),
    path("<int:pk>/", views.report_detail, name="report_detail"),
    path("<int:pk>/pdf/", views.report_pdf, name="report_pdf"),
    path("<int:pk>/issue/", views.report_issue, name="report_issue"),
    path("<int:pk>/prepare/", views.report_prepare, name="report_prepare"),
    path("<int:pk>/sign/", views.report_sign, name="report_sign"),
    path("<int:pk>/revoke/", views.report_revoke, name="report_revoke"),
    path("<int:pk>/hazard/", views.report_hazard, name="report_hazard"),
    path("keys/", views.key_list, name="key_list"),
    path("keys/generate/", views.key_generate, name="key_generate"),
    path("keys/<str:key_id>/retire/", views.key_retire, name="key_retire"),
    path("instruments/", views.instrument_list, name="instrument_list"),
    path("instruments/<int:pk>/calibrations/", views.calibration_add,
         name="calibration_add"),
    path("hazards/", views.hazard_list, name="hazard_list"),
    path("hazards/<int:pk>/acknowledge/", views.hazard_acknowledge,
         name="hazard_acknowledge"),
]
