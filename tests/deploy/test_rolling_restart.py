"""The documented deployment, end to end: nginx with TLS in front of two workers on PostgreSQL
and Redis, coturn beside them, a two-person call through ``https://localhost:<port>``, and each
worker restarted in turn while the call's video keeps advancing on both sides.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest
from playwright.sync_api import sync_playwright

from tests.support import tools
from tests.support.browser import CHROMIUM_ARGS, JOIN_READY_JS
from tests.support.coturn import Coturn
from tests.support.nginx import Nginx
from tests.support.servers import PROJECT_DIR, LiveServers

pytestmark = [pytest.mark.browser, pytest.mark.redis, pytest.mark.coturn, pytest.mark.slow]

TIMEOUT_MS = 30_000
FRAMES_JS = """
(peerId) => {
  const video = document.querySelector(
    `[data-peer-id="${CSS.escape(peerId)}"][data-view="camera"] video`);
  return video && video.videoWidth ? video.getVideoPlaybackQuality().totalVideoFrames : -1;
}
"""


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("deployment")
    with Coturn(workdir / "coturn", secrets=["deploy-secret"]) as turn:
        servers = LiveServers(
            workdir / "servers",
            count=2,
            redis=True,
            postgres=True,
            extra_env={
                **turn.environment(),
                # Production settings: HTTPS behind the proxy, the proxy's host name allowed.
                "DJANGO_HTTPS": "true",
                "DJANGO_BEHIND_PROXY": "true",
                "DJANGO_ALLOWED_HOSTS": "localhost",
                "LOG_LEVEL": "INFO",
            },
        ).start()
        try:
            static_root = workdir / "static"
            subprocess.run(
                [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
                cwd=PROJECT_DIR,
                env={**servers.env(), "DJANGO_STATIC_ROOT": str(static_root)},
                check=True,
                timeout=120,
                capture_output=True,
            )
            with Nginx(
                workdir / "nginx",
                upstream_ports=[proc.port for proc in servers.processes],
                static_root=static_root,
            ) as proxy:
                yield servers, proxy
        finally:
            servers.stop()


def _socket_opens(servers: LiveServers, index: int, slug: str) -> int:
    log = servers.processes[index].log_path.read_text(errors="replace")
    # meet's own access log (meet/logs.py), one line per socket accepted.
    return len(re.findall(rf'meet\.access .*"WSCONNECT /ws/rooms/{re.escape(slug)}/', log))


def _frames(page, peer_id: str) -> int:
    return page.evaluate(FRAMES_JS, peer_id)


def _wait_frames_advance(page, peer_id: str, count: int = 10) -> int:
    start = max(_frames(page, peer_id), 0)
    page.wait_for_function(
        f"(args) => ({FRAMES_JS})(args[0]) >= args[1]",
        arg=[peer_id, start + count],
        polling=100,
        timeout=TIMEOUT_MS,
    )
    return _frames(page, peer_id)


def test_check_deploy_is_clean_in_the_deployment_environment(deployment):
    servers, _proxy = deployment
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=PROJECT_DIR,
        env=servers.env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr


def test_a_call_through_nginx_survives_restarting_each_worker_in_turn(deployment):
    servers, proxy = deployment
    sessions = servers.create_users("ana", "bob")
    slug = servers.create_room("ana", "Deployed call")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=tools.chromium_path(), args=CHROMIUM_ARGS
        )
        pages = {}
        try:
            for index, name in enumerate(("ana", "bob")):
                context = browser.new_context(
                    ignore_https_errors=True, viewport={"width": 960, "height": 640}
                )
                context.set_default_timeout(TIMEOUT_MS)
                context.add_cookies(
                    [
                        {
                            "name": "sessionid",
                            "value": sessions[name],
                            "url": proxy.https_url,
                            "secure": True,
                        }
                    ]
                )
                page = context.new_page()
                page.goto(f"{proxy.https_url}/rooms/{slug}/")
                page.wait_for_function(JOIN_READY_JS, polling=100)
                page.locator('[data-action="join"]').click()
                page.wait_for_selector('body[data-call-state="in-call"]', state="attached")
                pages[name] = page
                # Each socket lands on a different worker: nginx's least_conn sends Bob's to
                # the worker that does not already hold Ana's (which one Ana's goes to depends
                # on the page's earlier requests, so it is not asserted).
                opened = [_socket_opens(servers, worker, slug) for worker in (0, 1)]
                assert sum(opened) == index + 1 and max(opened) == 1, (
                    f"after {name} joined the workers hold {opened} sockets"
                )
            ana, bob = pages["ana"], pages["bob"]
            ana_id = ana.evaluate("window.meet.selfPeerId")
            bob_id = bob.evaluate("window.meet.selfPeerId")
            _wait_frames_advance(ana, bob_id)
            _wait_frames_advance(bob, ana_id)

            for index in (0, 1):
                servers.stop_process(index)
                # While the worker is down, media keeps flowing peer to peer.
                _wait_frames_advance(ana, bob_id)
                _wait_frames_advance(bob, ana_id)
                servers.start_process(index)
                # Both pages are back on signaling (through the worker still up) and in the call.
                for page in (ana, bob):
                    page.wait_for_selector(
                        'body[data-signaling="open"][data-call-state="in-call"]',
                        state="attached",
                    )
                _wait_frames_advance(ana, bob_id)
                _wait_frames_advance(bob, ana_id)
                # Nobody left the call for good: the same two peers, each seeing the other.
                assert ana.evaluate("window.meet.selfPeerId") == ana_id
                assert bob.evaluate("window.meet.selfPeerId") == bob_id
                time.sleep(0.5)
        finally:
            browser.close()
