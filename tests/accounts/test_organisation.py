"""An account acts for the organisation its role names; a missing one is refused naming
the field to fill, not with the database constraint's generic message."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from zhijian.accounts.models import Role, User

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("role", "field"), [
    (Role.REGULATOR, "department"), (Role.ENTERPRISE, "entity"), (Role.LAB, "lab"),
    (Role.USER_UNIT, "user_unit")])
def test_a_role_without_its_organisation_names_the_field(role, field):
    user = User(username="someone", role=role)
    user.set_unusable_password()
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        user.full_clean()
    assert list(exc.value.message_dict) == [field]


def test_an_administrator_needs_no_organisation():
    user = User(username="root", role=Role.ADMIN)
    user.set_unusable_password()
    user.full_clean()


def test_a_regulator_with_a_department_is_valid(world):
    user = User(username="officer", role=Role.REGULATOR,
                department=world["departments"]["xian"])
    user.set_unusable_password()
    user.full_clean()
