"""The EPCIS 2.0 REST binding, mounted at /epcis/ (epcis_api.py, docs/epcis.md)."""

from django.urls import path

from . import epcis_api as views

app_name = "epcis"

urlpatterns = [
    path("capture", views.CaptureView.as_view(), name="capture"),
    path("capture/<str:capture_id>", views.CaptureJobView.as_view(), name="capture-job"),
    path("events", views.EventsView.as_view(), name="events"),
    path("events/<path:event_id>", views.EventView.as_view(), name="event"),
    path("epcs/<path:epc>/events", views.EpcEventsView.as_view(), name="epc-events"),
    path("eventTypes", views.EventTypesView.as_view(), name="event-types"),
]
