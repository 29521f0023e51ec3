"""Recall pages, mounted at /work/recalls/ (views.py)."""

from django.urls import path

from . import views

app_name = "recalls"

urlpatterns = [
    path("", views.recall_list, name="recall_list"),
    path("new/", views.recall_propose, name="recall_propose"),
    path("notices/", views.notice_list, name="notice_list"),
    path("notices/<int:pk>/acknowledge/", views.notice_acknowledge, name="notice_acknowledge"),
    path("items/<int:pk>/", views.item_detail, name="item_detail"),
    path("<str:number>/", views.recall_detail, name="recall_detail"),
    path("<str:number>/open/", views.recall_open, name="recall_open"),
    path("<str:number>/dismiss/", views.recall_dismiss, name="recall_dismiss"),
    path("<str:number>/complete/", views.recall_complete, name="recall_complete"),
    path("<str:number>/refresh/", views.recall_refresh, name="recall_refresh"),
    path("<str:number>/impact.csv", views.impact_csv, name="impact_csv"),
]
