from django.urls import path

from . import inspections, reports, sampling, views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("labs/", views.labs, name="labs"),
    path("labs/<int:pk>/", views.lab_detail, name="lab_detail"),
    path("departments/", views.departments, name="departments"),
    path("matrix/", views.matrix, name="matrix"),
    path("audit/", views.audit, name="audit"),
    path("inspections/", inspections.inspection_results, name="inspection_results"),
    path("draws/", inspections.draw_list, name="draw_list"),
    path("draws/<int:pk>/", inspections.draw_detail, name="draw_detail"),
    path("draws/<int:pk>/bundle.json", inspections.draw_bundle, name="draw_bundle"),
    path("draws/verifier/<str:name>", inspections.draw_verifier, name="draw_verifier"),
]
urlpatterns += [*sampling.urlpatterns, *reports.urlpatterns]
