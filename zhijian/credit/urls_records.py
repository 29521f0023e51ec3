"""/work/credit/ pages of credit records, penalty decisions and credit commitments
(views/records.py), in the "credit" namespace."""

from django.urls import path

from .views import records as views

urlpatterns: list = [
    path("records/", views.record_list, name="record_list"),
    path("records/new/", views.record_new, name="record_new"),
    path("records/<int:pk>/", views.record_detail, name="record_detail"),
    path("records/<int:pk>/evidence/", views.record_evidence, name="record_evidence"),
    path("records/<int:pk>/withdraw/", views.record_withdraw, name="record_withdraw"),
    path("penalties/", views.penalty_list, name="penalty_list"),
    path("penalties/new/", views.penalty_new, name="penalty_new"),
    path("penalties/<int:pk>/", views.penalty_detail, name="penalty_detail"),
    path("penalties/<int:pk>/document/", views.penalty_document, name="penalty_document"),
    path("penalties/<int:pk>/paid/", views.penalty_paid, name="penalty_paid"),
    path("penalties/<int:pk>/revoke/", views.penalty_revoke, name="penalty_revoke"),
    path("commitments/", views.commitment_list, name="commitment_list"),
    path("commitments/sign/", views.commitment_sign, name="commitment_sign"),
    path("commitments/<int:pk>/", views.commitment_detail, name="commitment_detail"),
    path("commitments/<int:pk>/breach/", views.commitment_breach, name="commitment_breach"),
]
