"""Pages of capture without GS1 software, mounted at /work/traceability/ (web_views.py;
docs/capture-without-gs1.md)."""

from django.urls import path

from . import web_views as views

app_name = "traceability"

urlpatterns = [
    path("", views.home, name="home"),
    path("record/<slug:step>/", views.capture, name="capture"),
    path("captures/<int:pk>/", views.capture_detail, name="capture_detail"),
    path("upload/", views.upload, name="upload"),
    path("upload/template.csv", views.upload_template, name="upload_template"),
    path("places/", views.place_list, name="place_list"),
    path("places/new/", views.place_create, name="place_create"),
    path("places/<int:pk>/edit/", views.place_edit, name="place_edit"),
    path("labels/", views.label_form, name="labels"),
]
