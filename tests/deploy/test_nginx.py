"""deploy/nginx/meet.conf, run by a real nginx in front of a real meet worker, over TLS."""

from __future__ import annotations

import http.client
import json
import re
import socket
import ssl
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from websockets.sync.client import connect

from tests.support.nginx import Nginx
from tests.support.servers import PROJECT_DIR, LiveServers

pytestmark = pytest.mark.slow

METRICS_TOKEN = "nginx-metrics-token-6c1e0a9f"


def _collectstatic(target: Path, env: dict[str, str]) -> None:
    """The hashed static files as production has them (manifest storage, as ./run makes)."""
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=PROJECT_DIR,
        env={**env, "DJANGO_STATIC_ROOT": str(target), "DJANGO_STATIC_MANIFEST": "true"},
        check=True,
        timeout=120,
        capture_output=True,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("nginx-site")
    servers = LiveServers(
        workdir / "servers",
        extra_env={
            "DJANGO_BEHIND_PROXY": "true",
            "LOG_LEVEL": "INFO",
            "METRICS_TOKEN": METRICS_TOKEN,
        },
    ).start()
    try:
        static_root = workdir / "static"
        _collectstatic(static_root, servers.env())
        with Nginx(
            workdir / "nginx",
            upstream_ports=[proc.port for proc in servers.processes],
            static_root=static_root,
        ) as proxy:
            yield servers, proxy, static_root
    finally:
        servers.stop()


def _https(proxy: Nginx, method: str, path: str, **kwargs) -> http.client.HTTPResponse:
    context = ssl.create_default_context(cafile=proxy.ca_file)
    connection = http.client.HTTPSConnection(
        "localhost", proxy.https_port, context=context, timeout=10
    )
    connection.request(method, path, **kwargs)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def test_the_template_passes_nginx_t(tmp_path):
    proxy = Nginx(tmp_path, upstream_ports=[8001, 8002], static_root=tmp_path)
    result = proxy.test_config()
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr


def test_plain_http_is_redirected_to_https(site):
    _servers, proxy, _static = site
    connection = http.client.HTTPConnection("localhost", proxy.http_port, timeout=10)
    connection.request("GET", "/rooms/weekly/?invite=abc")
    response = connection.getresponse()
    assert response.status == 301
    assert response.getheader("Location") == "https://localhost/rooms/weekly/?invite=abc"


def test_pages_come_through_tls_with_exactly_one_hsts_header(site):
    _servers, proxy, _static = site
    context = ssl.create_default_context(cafile=proxy.ca_file)
    with urllib.request.urlopen(f"{proxy.https_url}/healthz", context=context) as response:
        assert json.loads(response.read())["status"] == "ok"
        hsts = response.headers.get_all("Strict-Transport-Security")
    assert hsts == ["max-age=31536000; includeSubDomains; preload"]
    assert "nginx/" not in (response.headers.get("Server") or "")


@pytest.mark.parametrize(
    ("maximum", "negotiated"),
    [(ssl.TLSVersion.MAXIMUM_SUPPORTED, "TLSv1.3"), (ssl.TLSVersion.TLSv1_2, "TLSv1.2")],
)
def test_tls_1_3_is_preferred_and_1_2_still_served(site, maximum, negotiated):
    _servers, proxy, _static = site
    context = ssl.create_default_context(cafile=proxy.ca_file)
    context.maximum_version = maximum
    with socket.create_connection(("localhost", proxy.https_port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            assert tls.version() == negotiated


def test_hashed_static_files_are_cached_for_a_year_and_the_others_for_an_hour(site):
    _servers, proxy, static_root = site
    manifest = json.loads((static_root / "staticfiles.json").read_text())["paths"]
    hashed = manifest["css/base.css"]
    assert re.search(r"\.[0-9a-f]{12}\.css$", hashed)
    response = _https(proxy, "GET", f"/static/{hashed}")
    assert response.status == 200
    assert response.getheader("Cache-Control") == "public, max-age=31536000, immutable"
    assert response.getheader("Strict-Transport-Security")
    plain = _https(proxy, "GET", "/static/css/base.css")
    assert plain.status == 200
    assert plain.getheader("Cache-Control") == "public, max-age=3600"


def test_a_large_body_is_refused_by_nginx_before_it_reaches_a_worker(site):
    _servers, proxy, _static = site
    response = _https(
        proxy,
        "POST",
        "/accounts/login/",
        body=b"x" * (2 * 1024 * 1024),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status == 413


def test_an_oversized_header_is_refused_by_nginx_and_an_ordinary_cookie_passes(site):
    _servers, proxy, _static = site
    # large_client_header_buffers 4 8k: one header line over 8 KB is refused with 400.
    refused = _https(proxy, "GET", "/healthz", headers={"Cookie": "a=" + "x" * 9000})
    assert refused.status == 400
    # A browser's real cookies (session, CSRF, language) are far below it.
    passed = _https(proxy, "GET", "/healthz", headers={"Cookie": "sessionid=" + "x" * 2000})
    assert passed.status == 200


def test_a_client_cannot_choose_the_address_the_worker_sees(site):
    servers, proxy, _static = site
    _https(proxy, "GET", "/healthz?probe=forwarded", headers={"X-Forwarded-For": "6.6.6.6"})
    log = servers.processes[0].log_path.read_text()
    lines = [line for line in log.splitlines() if "/healthz?probe=" in line]
    assert lines, log[-2000:]
    assert "6.6.6.6" not in lines[-1]
    assert "127.0.0.1" in lines[-1]


def test_metrics_are_not_served_through_nginx_even_with_the_token(site):
    servers, proxy, _static = site
    bearer = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    # The worker itself answers Prometheus on its loopback port...
    request = urllib.request.Request(servers.url("/metrics"), headers=bearer)
    with urllib.request.urlopen(request, timeout=10) as direct:
        assert direct.status == 200
    # ...but through the proxy /metrics does not exist, with or without the token.
    assert _https(proxy, "GET", "/metrics", headers=bearer).status == 404
    assert _https(proxy, "GET", "/metrics").status == 404
    # Spellings that reach the same path once decoded and merged are caught as well.
    for spelling in ("/metrics?x=1", "//metrics", "/%6detrics"):
        assert _https(proxy, "GET", spelling, headers=bearer).status == 404, spelling


def test_websocket_upgrade_reaches_meet_with_the_site_origin(site):
    servers, proxy, _static = site
    sessions = servers.create_users("ana")
    slug = servers.create_room("ana", "Through nginx")
    context = ssl.create_default_context(cafile=proxy.ca_file)
    with connect(
        f"wss://localhost:{proxy.https_port}/ws/rooms/{slug}/",
        ssl=context,
        origin=proxy.https_url,
        additional_headers={"Cookie": f"sessionid={sessions['ana']}"},
        open_timeout=10,
    ) as socket:
        welcome = json.loads(socket.recv(timeout=10))
    assert welcome["type"] == "welcome"
    assert welcome["self"]["user"]["username"] == "ana"


def test_a_foreign_origin_is_refused_through_the_proxy_too(site):
    servers, proxy, _static = site
    sessions = servers.create_users("bob")
    slug = servers.create_room("bob", "Foreign origin")
    context = ssl.create_default_context(cafile=proxy.ca_file)
    with connect(
        f"wss://localhost:{proxy.https_port}/ws/rooms/{slug}/",
        ssl=context,
        origin=f"https://localhost:{proxy.https_port + 1}",
        additional_headers={"Cookie": f"sessionid={sessions['bob']}"},
        open_timeout=10,
    ) as socket:
        frame = json.loads(socket.recv(timeout=10))
    assert frame["type"] == "error"
    assert frame["code"] == "forbidden"


def test_doctor_checks_the_public_url_through_the_proxy(site):
    servers, proxy, _static = site
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "doctor",
            "--url",
            proxy.https_url,
            "--ca-file",
            proxy.ca_file,
        ],
        cwd=PROJECT_DIR,
        env=servers.env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = result.stdout.splitlines()
    assert any(line.startswith("OK    tls:") for line in lines), result.stdout
    assert any(line.startswith("OK    https:") for line in lines), result.stdout
    assert any(line.startswith("OK    websocket:") for line in lines), result.stdout
