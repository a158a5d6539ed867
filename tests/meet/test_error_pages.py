"""Error pages look like the product and say what to do, not Django's bare defaults."""

import pytest
from django.test import Client


@pytest.mark.django_db
def test_unknown_address_gets_the_site_404_page(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "Page not found" in response.text and "css/base.css" in response.text


@pytest.mark.django_db
def test_a_form_without_its_csrf_token_gets_a_clear_403_and_changes_nothing(make_user):
    from rooms.models import Room

    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("ana"))
    response = client.post("/rooms/new/", {"name": "Sneaky"})
    assert response.status_code == 403
    assert "Please try again" in response.text and "nothing was changed" in response.text
    assert not Room.objects.exists()


def test_the_500_page_renders_without_a_request_context():
    from django.template.loader import render_to_string

    html = render_to_string("500.html")
    assert "Something went wrong" in html and "css/base.css" in html
