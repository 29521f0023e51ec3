"""An inspector is linked to their own sign-in so that they can work the tasks they are
drawn for; only a regulator account of the same department qualifies."""

import pytest

from tests import factories as f
from zhijian.accounts.models import Role
from zhijian.registry.models import Inspector

pytestmark = pytest.mark.django_db


def test_an_officer_links_an_inspector_to_a_colleagues_account(api, world, xian_officer):
    xian = world["departments"]["xian"]
    inspector = f.InspectorFactory(department=xian, badge_number="6101-900")
    colleague = f.UserFactory(username="li.inspector", role=Role.REGULATOR, department=xian)
    api.force_authenticate(xian_officer)
    r = api.patch(f"/api/v1/inspectors/{inspector.pk}/",
                  {"user": "li.inspector", "reason": "开通执法账号"}, format="json")
    assert (r.status_code, r.json()["user"]) == (200, "li.inspector")
    assert Inspector.objects.get(pk=inspector.pk).user_id == colleague.pk


def test_an_account_of_another_department_is_refused(api, world, xian_officer, baoji_officer):
    inspector = f.InspectorFactory(department=world["departments"]["xian"],
                                   badge_number="6101-901")
    api.force_authenticate(xian_officer)
    r = api.patch(f"/api/v1/inspectors/{inspector.pk}/", {"user": "baoji"}, format="json",
                  HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 400
    assert [e["attr"] for e in r.json()["errors"]] == ["user"]
    assert Inspector.objects.get(pk=inspector.pk).user_id is None
