"""/work/credit/measures/ and /work/credit/checks/: joint punishment measures and credit
checks (views/measures.py). tokens/ (service tokens) is added by its own area."""

from django.urls import path

from .views import measures, public

urlpatterns: list = [
    path("measures/", measures.measure_list, name="measure_list"),
    path("measures/new/", measures.measure_declare, name="measure_declare"),
    path("measures/<int:pk>/withdraw/", measures.measure_withdraw, name="measure_withdraw"),
    path("checks/", measures.check_list, name="check_list"),
    path("checks/new/", measures.check_new, name="check_new"),
    path("checks/<int:pk>/", measures.check_detail, name="check_detail"),
]

# Credit service tokens (administrators): views/public.py.
urlpatterns += [
    path("tokens/", public.token_list, name="token_list"),
    path("tokens/new/", public.token_create, name="token_create"),
    path("tokens/<int:pk>/revoke/", public.token_revoke, name="token_revoke"),
]
