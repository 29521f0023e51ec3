"""User accounts: one role each, tied to the organisation the user acts for."""

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Platform administrator")
    REGULATOR = "regulator", _("Regulator")
    ENTERPRISE = "enterprise", _("Enterprise")
    LAB = "lab", _("Testing laboratory")
    USER_UNIT = "user_unit", _("User unit")


# The organisation a non-admin account acts for, by role, and what to say when it is missing.
ORGANISATION_FIELD = {
    Role.REGULATOR: "department",
    Role.ENTERPRISE: "entity",
    Role.LAB: "lab",
    Role.USER_UNIT: "user_unit",
}
ORGANISATION_REQUIRED = {
    Role.REGULATOR: _("A regulator acts for a department: choose the department."),
    Role.ENTERPRISE: _("An enterprise account acts for its market entity: choose the market "
                       "entity."),
    Role.LAB: _("A laboratory account acts for its laboratory: choose the laboratory."),
    Role.USER_UNIT: _("A user unit account acts for its user unit: choose the user unit."),
}


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

    def clean(self):
        """The rule of the user_role_matches_organisation constraint, with a message that
        names the field to fill (full_clean then skips the constraint's own message)."""
        super().clean()
        field = ORGANISATION_FIELD.get(self.role)
        if field is not None and getattr(self, f"{field}_id") is None:
            raise ValidationError({field: ORGANISATION_REQUIRED[self.role]})

    @property
    def organisation(self):
        return {
            Role.REGULATOR: self.department,
            Role.ENTERPRISE: self.entity,
            Role.LAB: self.lab,
            Role.USER_UNIT: self.user_unit,
        }.get(self.role)
