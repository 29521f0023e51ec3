"""/work/credit/blacklist/ and /work/credit/repairs/: the serious-dishonesty list and credit
repair (views/blacklist.py)."""

from django.urls import path

from .views import blacklist as views

urlpatterns = [
    path("blacklist/", views.blacklist_list, name="blacklist_list"),
    path("blacklist/new/", views.blacklist_propose, name="blacklist_propose"),
    path("blacklist/<int:pk>/", views.blacklist_detail, name="blacklist_detail"),
    path("blacklist/<int:pk>/notice/", views.blacklist_notice, name="blacklist_notice"),
    path("blacklist/<int:pk>/object/", views.blacklist_object, name="blacklist_object"),
    path("blacklist/<int:pk>/decide/", views.blacklist_decide, name="blacklist_decide"),
    path("blacklist/<int:pk>/repair/", views.repair_apply, name="repair_apply"),
    path("repairs/", views.repair_list, name="repair_list"),
    path("repairs/<int:pk>/", views.repair_detail, name="repair_detail"),
]
