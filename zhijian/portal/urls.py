from django.urls import path

from . import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("labs/", views.labs, name="labs"),
    path("labs/<int:pk>/", views.lab_detail, name="lab_detail"),
    path("departments/", views.departments, name="departments"),
    path("matrix/", views.matrix, name="matrix"),
    path("audit/", views.audit, name="audit"),
]
