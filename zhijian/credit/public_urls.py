"""/credit/: public credit reports and the public list (docs/credit-public.md)."""

from django.urls import path

from .views import public

app_name = "credit_public"

urlpatterns = [
    path("", public.home, name="home"),
    path("blacklist/", public.blacklist, name="blacklist"),
    path("<str:uscc>/", public.report, name="report"),
]
