"""Sign-in: each role lands on its main page."""

from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView

from ..common import home_url_for
from ..forms import BootstrapMixin


class LoginForm(BootstrapMixin, AuthenticationForm):
    pass


class RoleLoginView(LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        return home_url_for(self.request.user)
