"""Signup, login, logout and password change through the real views and forms."""

import pytest
from django.contrib.auth import get_user_model

GOOD_PASSWORD = "correct-Horse-battery-42"

pytestmark = pytest.mark.django_db


def signup(client, **overrides):
    data = {"username": "ana", "password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD}
    data.update(overrides)
    return client.post("/accounts/signup/", data)


def test_signup_page_renders_the_form_with_its_fields(client):
    response = client.get("/accounts/signup/")
    assert response.status_code == 200
    for name in ("username", "password1", "password2", "display_name", "email"):
        assert f'name="{name}"' in response.text


def test_signup_creates_the_user_logs_them_in_and_goes_home(client):
    response = signup(client, display_name="  Ana Lima ", email="ana@example.org")
    assert response.status_code == 302 and response["Location"] == "/"
    user = get_user_model().objects.get(username="ana")
    assert user.display_name == "Ana Lima" and user.email == "ana@example.org"
    assert user.check_password(GOOD_PASSWORD)
    assert not user.is_staff
    home = client.get("/")
    assert home.context["user"] == user
    assert "Welcome, Ana Lima!" in home.text


def test_signup_follows_a_local_next_but_not_a_foreign_one(client):
    response = client.post(
        "/accounts/signup/?next=/rooms/new/",
        {"username": "ana", "password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD},
    )
    assert response["Location"] == "/rooms/new/"
    other = signup(client.__class__(), username="bo", next="https://evil.example/")
    assert other["Location"] == "/"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"username": ""}, "username", "This field is required."),
        ({"password2": "something-else-42"}, "password2", "The two password fields didn"),
        ({"password1": "123", "password2": "123"}, "password2", "too short"),
        ({"password1": "password", "password2": "password"}, "password2", "too common"),
        ({"username": "has space"}, "username", "Enter a valid username"),
        ({"display_name": "x" * 81}, "display_name", "at most 80 characters"),
        ({"email": "not-an-email"}, "email", "Enter a valid email address."),
    ],
)
def test_signup_with_bad_input_shows_the_error_on_its_field_and_creates_nobody(
    client, overrides, field, message
):
    response = signup(client, **overrides)
    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors[field])
    assert message.split("'")[0] in response.text.replace("&#x27;", "'")
    assert not get_user_model().objects.exists()
    assert "_auth_user_id" not in client.session


def test_signup_refuses_a_taken_username(client, make_user):
    make_user("ana")
    response = signup(client)
    assert response.status_code == 200
    assert (
        "A user with that username already exists." in response.context["form"].errors["username"]
    )
    assert get_user_model().objects.filter(username="ana").count() == 1


def test_signup_sends_a_logged_in_user_home(client, make_user):
    client.force_login(make_user("ana"))
    assert client.get("/accounts/signup/")["Location"] == "/"


def test_login_page_renders_and_logs_in_honouring_next(client, make_user):
    make_user("ana")
    page = client.get("/accounts/login/?next=/rooms/new/")
    assert page.status_code == 200 and 'name="password"' in page.text
    response = client.post(
        "/accounts/login/",
        {"username": "ana", "password": "pw-ana-123", "next": "/rooms/new/"},
    )
    assert response.status_code == 302 and response["Location"] == "/rooms/new/"
    assert client.get("/rooms/new/").status_code == 200


def test_login_with_a_wrong_password_says_so_and_stays_logged_out(client, make_user):
    make_user("ana")
    response = client.post("/accounts/login/", {"username": "ana", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.text
    assert "_auth_user_id" not in client.session


def test_logout_needs_post_and_then_logs_out(client, make_user):
    client.force_login(make_user("ana"))
    assert client.get("/accounts/logout/").status_code == 405
    assert "_auth_user_id" in client.session
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert "_auth_user_id" not in client.session


def test_password_change_needs_login(client):
    response = client.get("/accounts/password/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/accounts/password/"


def test_password_change_refuses_a_wrong_old_password_and_keeps_the_old_one(client, make_user):
    user = make_user("ana")
    client.force_login(user)
    response = client.post(
        "/accounts/password/",
        {
            "old_password": "wrong",
            "new_password1": GOOD_PASSWORD,
            "new_password2": GOOD_PASSWORD,
        },
    )
    assert response.status_code == 200
    assert "old_password" in response.context["form"].errors
    user.refresh_from_db()
    assert user.check_password("pw-ana-123")


def test_password_change_sets_the_new_password_and_keeps_the_session(client, make_user):
    user = make_user("ana")
    client.force_login(user)
    assert client.get("/accounts/password/").status_code == 200
    response = client.post(
        "/accounts/password/",
        {
            "old_password": "pw-ana-123",
            "new_password1": GOOD_PASSWORD,
            "new_password2": GOOD_PASSWORD,
        },
    )
    assert response.status_code == 302 and response["Location"] == "/accounts/password/done/"
    user.refresh_from_db()
    assert user.check_password(GOOD_PASSWORD)
    assert client.get("/accounts/password/done/").status_code == 200
    assert client.get("/rooms/new/").status_code == 200


def test_pages_use_the_site_shell_with_no_external_resources(client, make_user):
    client.force_login(make_user("ana", display_name="Ana Lima", is_staff=True))
    page = client.get("/").text
    assert "css/tokens.css" in page and "css/base.css" in page
    assert "Ana Lima" in page and 'href="/admin/"' in page and 'action="/accounts/logout/"' in page
    assert "http://" not in page.replace("http://testserver", "")
    assert "https://" not in page


def test_signup_with_an_empty_post_shows_required_errors(client):
    response = client.post("/accounts/signup/", {})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) >= {"username", "password1", "password2"}
