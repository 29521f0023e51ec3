from django.contrib.auth import views as auth_views
from django.urls import path

from zhijian.web.views.auth import RoleLoginView

urlpatterns = [
    path("login/", RoleLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
