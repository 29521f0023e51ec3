"""`zhijian create_token USERNAME`: print the user's API token, creating it if needed."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    help = ("Print the API token of a user (created on first use). Send it as "
            "'Authorization: Token <token>' to /api/v1/.")

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}; create the account first "
                               "(the demo creates admin, province, xian, …).")
        if not user.is_active:
            raise CommandError(f"The user {username!r} is deactivated; a token would not work.")
        token, _created = Token.objects.get_or_create(user=user)
        self.stdout.write(token.key)
