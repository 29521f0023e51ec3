"""/work/credit/ pages of the credit class (views/rating.py), in the "credit" namespace."""

from django.urls import path

from .views import rating as views

urlpatterns: list = [
    path("", views.home, name="home"),
    path("mine/", views.mine, name="mine"),
    path("entities/<str:uscc>/", views.entity_detail, name="entity"),
    path("supervision/", views.supervision, name="supervision"),
    path("supervision/sampling/<int:pk>/", views.supervision_sampling,
         name="supervision_sampling"),
]
