"""Brute-force protection: login and admin login lock out, signup is rate limited per address."""

import pytest
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "correct-Horse-battery-42"


def wrong_logins(client, url, username, count, address="203.0.113.7"):
    return [
        client.post(url, {"username": username, "password": f"wrong-{i}"}, REMOTE_ADDR=address)
        for i in range(count)
    ]


def test_forty_wrong_passwords_then_the_right_one_is_locked_out_with_429(client, make_user):
    make_user("ana")
    responses = wrong_logins(client, "/accounts/login/", "ana", 40)
    # The first failures are ordinary form errors; the lockout starts at the limit (5).
    assert [r.status_code for r in responses[:4]] == [200] * 4
    assert all(r.status_code == 429 for r in responses[5:])
    right = client.post(
        "/accounts/login/", {"username": "ana", "password": "pw-ana-123"}, REMOTE_ADDR="203.0.113.7"
    )
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session
    assert "Too many failed logins" in right.text
    assert right["Retry-After"] == str(15 * 60)
    assert "15 minutes" in right.text


def test_admin_login_locks_out_after_repeated_wrong_passwords(client, make_user):
    make_user("boss", is_staff=True, is_superuser=True)
    wrong_logins(client, "/admin/login/", "boss", 40)
    right = client.post(
        "/admin/login/",
        {"username": "boss", "password": "pw-boss-123", "next": "/admin/"},
        REMOTE_ADDR="203.0.113.7",
    )
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/", REMOTE_ADDR="203.0.113.7").status_code == 302


def test_an_address_is_locked_out_across_different_usernames(client, make_user, settings):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 12
    make_user("ana")
    # Password spraying: two tries each on many names, never reaching the per-account limit.
    for i in range(6):
        wrong_logins(client, "/accounts/login/", f"victim{i}", 2)
    right = client.post(
        "/accounts/login/", {"username": "ana", "password": "pw-ana-123"}, REMOTE_ADDR="203.0.113.7"
    )
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_lockout_on_one_address_leaves_the_owner_on_another_address_alone(client, make_user):
    make_user("ana")
    wrong_logins(client, "/accounts/login/", "ana", 10, address="203.0.113.7")
    right = client.post(
        "/accounts/login/",
        {"username": "ana", "password": "pw-ana-123"},
        REMOTE_ADDR="198.51.100.2",
    )
    assert right.status_code == 302
    assert "_auth_user_id" in client.session


def test_a_few_wrong_passwords_then_the_right_one_still_logs_in(client, make_user):
    make_user("ana")
    wrong_logins(client, "/accounts/login/", "ana", 3)
    right = client.post(
        "/accounts/login/", {"username": "ana", "password": "pw-ana-123"}, REMOTE_ADDR="203.0.113.7"
    )
    assert right.status_code == 302


def test_the_failure_limit_and_cool_off_come_from_settings(client, make_user, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    settings.LOGIN_COOLOFF_MINUTES = 10
    make_user("ana")
    responses = wrong_logins(client, "/accounts/login/", "ana", 2)
    assert [r.status_code for r in responses] == [200, 429]
    assert responses[1]["Retry-After"] == "600"
    assert "10 minutes" in responses[1].text


def signup(client, username, address="203.0.113.9"):
    return client.post(
        "/accounts/signup/",
        {"username": username, "password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD},
        REMOTE_ADDR=address,
    )


def test_signup_is_rate_limited_per_address_with_429(client, settings):
    settings.SIGNUP_RATE_LIMIT_REQUESTS = 3
    settings.SIGNUP_RATE_LIMIT_WINDOW = 3600
    statuses = []
    for i in range(5):
        statuses.append(signup(client.__class__(), f"bot{i}").status_code)
    assert statuses == [302, 302, 302, 429, 429]
    assert get_user_model().objects.count() == 3
    refused = signup(client.__class__(), "bot9")
    assert "Too many accounts" in refused.text
    assert int(refused["Retry-After"]) > 0
    # Another address is not affected.
    assert signup(client.__class__(), "human", address="198.51.100.2").status_code == 302


@pytest.mark.django_db(transaction=True)
async def test_the_lockout_page_is_served_under_asgi_as_daphne_runs_it(async_client, settings):
    from asgiref.sync import sync_to_async

    await sync_to_async(get_user_model().objects.create_user)(username="ana", password="pw-ana-1")
    for i in range(6):
        response = await async_client.post(
            "/accounts/login/", {"username": "ana", "password": f"wrong-{i}"}
        )
    assert response.status_code == 429
    assert response["Retry-After"] == str(15 * 60)
    assert "Too many failed logins" in response.content.decode()
    # The request ran its queries on asgiref's worker thread: close that connection, or
    # PostgreSQL refuses to drop the test database at the end of the run.
    from django.db import connections

    await sync_to_async(connections.close_all)()


def test_failures_count_across_two_server_processes(live_servers):
    """Wrong passwords sent to two daphne processes add up to one lockout (axes keeps them in
    the shared database), and the lockout page comes back through daphne with 429."""
    import http.cookiejar
    import re
    import urllib.error
    import urllib.parse
    import urllib.request

    servers = live_servers(count=2)
    servers.create_users("ana")
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )

    def login(index: int, password: str) -> tuple[int, str, dict]:
        url = servers.url("/accounts/login/", index)
        page = opener.open(url, timeout=10).read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode(
            {"username": "ana", "password": password, "csrfmiddlewaretoken": token}
        ).encode()
        request = urllib.request.Request(url, data=body, headers={"Referer": url})
        try:
            response = opener.open(request, timeout=10)
            return response.status, response.read().decode(), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(), dict(error.headers)

    statuses = [login(i % 2, f"wrong-{i}")[0] for i in range(5)]
    assert statuses == [200, 200, 200, 200, 429]
    status, text, headers = login(1, "pw-ana-123")
    assert status == 429
    assert "Too many failed logins" in text
    assert headers["Retry-After"] == str(15 * 60)
