"""Purchasing and acceptance pages, mounted at /work/procurement/ ("home" is the user-unit
navigation's entry)."""

from django.urls import path

from . import views

app_name = "procurement"
urlpatterns = [
    path("", views.home, name="home"),
    path("lists/new/", views.list_create, name="list_create"),
    path("lists/<int:pk>/suppliers/new/", views.supplier_add, name="supplier_add"),
    path("suppliers/<int:pk>/", views.supplier_detail, name="supplier_detail"),
    path("suppliers/<int:pk>/appeal/", views.appeal_file, name="appeal_file"),
    path("appeals/<int:pk>/decide/", views.appeal_decide, name="appeal_decide"),
    path("deliveries/", views.delivery_list, name="delivery_list"),
    path("deliveries/new/", views.delivery_create, name="delivery_create"),
    path("deliveries/<int:pk>/", views.delivery_detail, name="delivery_detail"),
    path("deliveries/<int:pk>/check/", views.delivery_check, name="delivery_check"),
    path("deliveries/<int:pk>/witness/", views.delivery_witness, name="delivery_witness"),
    path("deliveries/<int:pk>/refer/", views.delivery_refer, name="delivery_refer"),
    path("listed/", views.listed, name="listed"),
    path("referrals/", views.referral_list, name="referral_list"),
    path("referrals/<int:pk>/acknowledge/", views.referral_acknowledge,
         name="referral_acknowledge"),
]
