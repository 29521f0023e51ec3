"""Trace pages for regulators, mounted at /work/trace/ (trace_views.py; docs/trace.md)."""

from django.urls import path

from . import trace_views as views

app_name = "trace"

urlpatterns = [
    path("", views.trace_form, name="form"),
    path("result", views.trace_result, name="result"),
    path("result.xlsx", views.trace_export, {"fmt": "xlsx"}, name="export_xlsx"),
    path("result.csv", views.trace_export, {"fmt": "csv"}, name="export_csv"),
]
