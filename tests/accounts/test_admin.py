"""The user admin shows, searches and edits display names and the active flag."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, make_user):
    client.force_login(make_user("boss", is_staff=True, is_superuser=True))
    return client


def test_user_list_shows_display_names_and_searches_them(staff_client, make_user):
    make_user("ana", display_name="Ana Lima")
    make_user("bo", display_name="Bo Chen")
    response = staff_client.get("/admin/accounts/user/?q=lima")
    assert response.status_code == 200
    assert "Ana Lima" in response.text and "Bo Chen" not in response.text


def test_staff_can_deactivate_a_user_from_the_change_page(staff_client, make_user):
    user = make_user("ana", display_name="Ana Lima")
    page = staff_client.get(f"/admin/accounts/user/{user.pk}/change/")
    assert page.status_code == 200 and 'name="display_name"' in page.text
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k != "password"}
    data.update(
        {
            "username": "ana",
            "display_name": "Ana L.",
            "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
            "groups": [],
            "user_permissions": [],
        }
    )
    data.pop("is_active", None)
    data.pop("date_joined", None)
    data.pop("last_login", None)
    response = staff_client.post(f"/admin/accounts/user/{user.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    user.refresh_from_db()
    assert user.display_name == "Ana L." and not user.is_active


def test_staff_can_add_a_user_with_a_display_name(staff_client):
    from django.contrib.auth import get_user_model

    response = staff_client.post(
        "/admin/accounts/user/add/",
        {
            "username": "newbie",
            "display_name": "New Bie",
            "usable_password": "true",
            "password1": "correct-Horse-battery-42",
            "password2": "correct-Horse-battery-42",
        },
    )
    assert response.status_code == 302
    user = get_user_model().objects.get(username="newbie")
    assert user.display_name == "New Bie" and user.check_password("correct-Horse-battery-42")


def test_non_staff_cannot_open_the_user_admin(client, make_user):
    client.force_login(make_user("ana"))
    response = client.get("/admin/accounts/user/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_user_list_shows_and_filters_guests_who_stay_guests(staff_client, make_user):
    from accounts.models import User

    make_user("ana", display_name="Ana Lima")
    guest = make_user("guest-7f3a", display_name="Visitor Vic")
    User.objects.filter(pk=guest.pk).update(is_guest=True)
    listing = staff_client.get("/admin/accounts/user/?is_guest__exact=1")
    assert listing.status_code == 200
    assert [user.username for user in listing.context["cl"].result_list] == ["guest-7f3a"]
    assert "field-is_guest" in listing.text
    page = staff_client.get(f"/admin/accounts/user/{guest.pk}/change/")
    # Shown, but not a form field: no one turns an account into a guest or back by hand.
    assert "is_guest" not in page.context["adminform"].form.fields
    assert "Entered a room with its invite link" in page.text
