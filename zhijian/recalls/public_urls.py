"""Public recall notices, mounted at /recalls/ (public.py)."""

from django.urls import path

from . import public

app_name = "public_recalls"

urlpatterns = [
    path("", public.recall_list, name="list"),
    path("<str:number>/", public.recall_detail, name="detail"),
]
