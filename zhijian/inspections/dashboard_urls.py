"""/work/inspections/dashboard/, mounted by config/urls.py under the namespace
"inspections_dashboard"."""

from django.urls import path

from . import dashboard

urlpatterns = [
    path("", dashboard.index, name="index"),
]
