"""Sign in lands each role on its main page; sign out is a POST."""

import pytest

# Personas are requested by name (getfixturevalue), so the database need is declared here.
pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("persona", "landing"), [
    ("admin_user", "/work/"), ("province_officer", "/work/"), ("xian_officer", "/work/"),
    ("enterprise_user", "/work/org/"), ("lab_user", "/work/org/"),
    ("user_unit_user", "/work/org/"),
])
def test_login_lands_on_the_roles_main_page(request, client, persona, landing):
    user = request.getfixturevalue(persona)
    response = client.post("/accounts/login/", {"username": user.username,
                                                "password": "correct-horse-battery"})
    assert response.status_code == 302
    assert response["Location"] == landing
    assert client.get(landing).status_code == 200


def test_login_honours_next(client, xian_officer):
    response = client.post("/accounts/login/?next=/work/matrix/",
                           {"username": "xian", "password": "correct-horse-battery",
                            "next": "/work/matrix/"})
    assert response["Location"] == "/work/matrix/"


def test_wrong_password_is_refused_in_chinese(client, xian_officer):
    response = client.post("/accounts/login/", {"username": "xian", "password": "wrong"})
    assert response.status_code == 200
    assert "请输入一个正确的" in response.content.decode()


def test_logout_needs_post(client, xian_officer):
    client.force_login(xian_officer)
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/work/").status_code == 302
