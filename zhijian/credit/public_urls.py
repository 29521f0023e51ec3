"""/credit/: public credit reports and the public list (docs/credit.md, "What is public")."""

from django.urls import path  # noqa: F401

app_name = "credit_public"

urlpatterns: list = []
