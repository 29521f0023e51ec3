"""Fake-report signals in the regulator workbench, mounted at /work/reports/signals/."""

from django.urls import path

from . import signal_views

app_name = "signals"
urlpatterns = [
    path("", signal_views.signal_list, name="signal_list"),
    path("<int:pk>/", signal_views.signal_detail, name="signal_detail"),
    path("<int:pk>/close/", signal_views.signal_close, name="signal_close"),
]
