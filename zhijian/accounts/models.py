"""User accounts: one role each, tied to the organisation the user acts for."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Platform administrator")
    REGULATOR = "regulator", _("Regulator")
    ENTERPRISE = "enterprise", _("Enterprise")
    LAB = "lab", _("Testing laboratory")
    USER_UNIT = "user_unit", _("User unit")


class User(AbstractUser):
    """A person who signs in. Regulators act for a department (which fixes their
    jurisdiction and sectors); enterprise, lab and user-unit accounts act for their own
    organisation only."""

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.REGULATOR)
    display_name = models.CharField(_("display name"), max_length=80, blank=True)
    department = models.ForeignKey(
        "registry.Department", null=True, blank=True, on_delete=models.PROTECT,
        related_name="users", verbose_name=_("department"),
    )
    entity = models.ForeignKey(
        "registry.MarketEntity", null=True, blank=True, on_delete=models.PROTECT,
        related_name="users", verbose_name=_("market entity"),
    )
    lab = models.ForeignKey(
        "registry.Lab", null=True, blank=True, on_delete=models.PROTECT,
        related_name="users", verbose_name=_("laboratory"),
    )
    user_unit = models.ForeignKey(
        "registry.UserUnit", null=True, blank=True, on_delete=models.PROTECT,
        related_name="users", verbose_name=_("user unit"),
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                name="user_role_matches_organisation",
                condition=(
                    models.Q(role="admin")
                    | models.Q(role="regulator", department__isnull=False)
                    | models.Q(role="enterprise", entity__isnull=False)
                    | models.Q(role="lab", lab__isnull=False)
                    | models.Q(role="user_unit", user_unit__isnull=False)
                ),
            )
        ]

    def __str__(self) -> str:
        return self.display_name or self.get_username()

    @property
    def organisation(self):
        return {
            Role.REGULATOR: self.department,
            Role.ENTERPRISE: self.entity,
            Role.LAB: self.lab,
            Role.USER_UNIT: self.user_unit,
        }.get(self.role)
