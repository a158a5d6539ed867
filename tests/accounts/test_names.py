"""Name rules: normalised, no invisible or direction-changing tricks, no look-alike usernames."""

import pytest
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "correct-Horse-battery-42"


def signup(client, **overrides):
    data = {"username": "ana", "password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD}
    data.update(overrides)
    return client.post("/accounts/signup/", data)


TRICKS = [
    ("bidi override", "Ana\u202eevil", "direction"),
    ("bidi isolate", "\u2067Ana", "direction"),
    ("right-to-left mark", "Ana\u200f", "direction"),
    ("arabic letter mark", "\u061cAna", "direction"),
    ("zero-width only", "\u200b\u200c\u200d", "visible"),
    ("whitespace only", " \u3000 \u2003 ", "visible"),
    ("control character", "Ana\x07", "control"),
    ("escape sequence", "Ana\x1b[2J", "control"),
]


@pytest.mark.parametrize(("label", "name", "message"), TRICKS, ids=[t[0] for t in TRICKS])
def test_signup_refuses_tricky_display_names(client, label, name, message):
    response = signup(client, display_name=name)
    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors["display_name"])
    assert not get_user_model().objects.exists()


@pytest.mark.parametrize(("label", "name", "message"), TRICKS, ids=[t[0] for t in TRICKS])
def test_signup_refuses_tricky_usernames(client, label, name, message):
    response = signup(client, username=name)
    assert response.status_code == 200
    assert "username" in response.context["form"].errors
    assert not get_user_model().objects.exists()


def test_signup_normalises_fullwidth_names_with_nfkc_and_strips_them(client):
    response = signup(client, username="ａｎａ", display_name="  Ａｎａ   Lima\u3000")
    assert response.status_code == 302
    user = get_user_model().objects.get()
    assert user.username == "ana"
    assert user.display_name == "Ana Lima"


def test_signup_refuses_a_username_confusable_with_an_existing_one(client, make_user):
    make_user("admin")
    response = signup(client, username="\u0430dmin")  # Cyrillic а
    assert response.status_code == 200
    errors = response.context["form"].errors["username"]
    assert any("looks like an existing username" in error for error in errors)
    assert get_user_model().objects.count() == 1


@pytest.mark.parametrize("lookalike", ["ADMIN", "Admin", "\u0251dmin", "adm\u0456n", "ａｄｍｉｎ"])
def test_signup_refuses_case_and_lookalike_variants_of_a_taken_username(
    client, make_user, lookalike
):
    make_user("admin")
    response = signup(client, username=lookalike)
    assert response.status_code == 200
    assert "username" in response.context["form"].errors
    assert get_user_model().objects.count() == 1


def test_a_different_username_is_not_taken_for_a_lookalike(client, make_user):
    make_user("admin")
    assert signup(client, username="adrian").status_code == 302


def test_the_admin_refuses_a_lookalike_username_too(client, make_user):
    make_user("admin")
    client.force_login(make_user("boss", is_staff=True, is_superuser=True))
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "username": "\u0430dmin",
            "display_name": "",
            "usable_password": "true",
            "password1": GOOD_PASSWORD,
            "password2": GOOD_PASSWORD,
        },
    )
    assert response.status_code == 200
    assert "looks like an existing username" in response.text
    assert not get_user_model().objects.filter(username="\u0430dmin").exists()


def test_clean_name_returns_the_normalised_name_and_explains_refusals():
    from django.core.exceptions import ValidationError

    from accounts.names import clean_name

    assert clean_name("  Ｗｅｅｋｌｙ\tSync ", label="Room names") == "Weekly Sync"
    with pytest.raises(ValidationError, match="Room names cannot contain"):
        clean_name("Sync\u202e", label="Room names")


def test_username_skeletons_match_lookalikes_but_not_different_names():
    from accounts.names import username_skeleton

    assert username_skeleton("admin") == username_skeleton("\u0430dmin")
    assert username_skeleton("paypal") == username_skeleton("p\u0430yp\u0430l")
    assert username_skeleton("Admin") == username_skeleton("admin")
    assert username_skeleton("admin") != username_skeleton("adrian")
