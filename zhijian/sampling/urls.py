"""Supervisory sampling in the workbench, mounted at /work/sampling/."""

from django.urls import path

from .views import follow_up, plans, samples

app_name = "sampling"
urlpatterns = [
    path("", plans.plan_list, name="plan_list"),
    path("plans/new/", plans.plan_create, name="plan_create"),
    path("plans/<int:pk>/", plans.plan_detail, name="plan_detail"),
    path("plans/<int:pk>/edit/", plans.plan_edit, name="plan_edit"),
    path("plans/<int:pk>/activate/", plans.plan_activate, name="plan_activate"),
    path("plans/<int:pk>/close/", plans.plan_close, name="plan_close"),
    path("plans/<int:pk>/samples/new/", plans.sample_create, name="sample_create"),
    path("samples/", samples.sample_list, name="sample_list"),
    path("samples/<int:pk>/", samples.sample_detail, name="sample_detail"),
    path("samples/<int:pk>/give/", samples.handover_give, name="handover_give"),
    path("samples/<int:pk>/receive/", samples.handover_receive, name="handover_receive"),
    path("samples/<int:pk>/photos/", samples.photo_add, name="photo_add"),
    path("samples/<int:pk>/photos/<int:photo_pk>/", samples.photo_file, name="photo_file"),
    path("lab/", samples.lab_samples, name="lab_samples"),
    path("disposals/", follow_up.disposal_list, name="disposal_list"),
    path("disposals/<int:pk>/", follow_up.disposal_detail, name="disposal_detail"),
    path("disposals/<int:pk>/decide/", follow_up.disposal_decide, name="disposal_decide"),
    path("disposals/<int:pk>/close/", follow_up.disposal_close, name="disposal_close"),
    path("batch-results/", follow_up.batch_lookup, name="batch_lookup"),
]
