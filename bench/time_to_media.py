"""Time to media: from B's click on Join to B's first decoded frame of A's video.

A real daphne (fresh SQLite database, or PostgreSQL when ``DATABASE_URL`` says so) and Debian's
Chromium with its fake camera. A waits in the call; each run opens a fresh context for B, waits
for the pre-join preview, clicks Join and measures inside B's page: ``performance.now()`` in a
capturing click listener on ``[data-action="join"]``, and again in the first
``requestVideoFrameCallback`` of any remote ``<video>`` (inside ``[data-peer-id]``). B then
leaves and A must see B gone before the next run starts.

    .venv/bin/python bench/time_to_media.py --runs 10
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))


from tests.support.browser import CHROMIUM_ARGS, JOIN_READY_JS, add_session_cookie  # noqa: E402
from tests.support.servers import LiveServers  # noqa: E402

CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")

# Installed before any page script runs, so the click is seen before the client's own handler
# (capture phase) and no remote video can be presented before it is watched.
MEASURE_JS = """
(() => {
  const ttm = (window.__timeToMedia = { click: null, inCall: null, connected: null, frame: null });
  document.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (ttm.click === null && target && target.closest('[data-action="join"]')) {
      ttm.click = performance.now();
    }
  }, true);
  const watched = new WeakSet();
  const watch = () => {
    if (ttm.click === null) return;
    const now = performance.now();
    if (ttm.inCall === null && document.body?.dataset.callState === "in-call") ttm.inCall = now;
    if (ttm.connected === null
        && document.querySelector('[data-peer-id][data-connection-state="connected"]')) {
      ttm.connected = now;
    }
    for (const video of document.querySelectorAll("[data-peer-id] video")) {
      if (watched.has(video)) continue;
      watched.add(video);
      video.requestVideoFrameCallback(() => {
        if (ttm.frame === null) ttm.frame = performance.now();
      });
    }
  };
  new MutationObserver(watch).observe(document, {
    childList: true, subtree: true, attributes: true,
    attributeFilter: ["data-peer-id", "data-call-state", "data-connection-state"],
  });
})();
"""

PREVIEW_PLAYING_JS = "() => [...document.querySelectorAll('video')].some(v => v.videoWidth > 0)"


def measure_once(browser, servers: LiveServers, session: str, room_url: str, host) -> dict:
    """One join of B: milliseconds from the click to in-call, to connected, to the first frame."""
    context = browser.new_context()
    try:
        add_session_cookie(context, servers.url(), session)
        context.add_init_script(MEASURE_JS)
        page = context.new_page()
        page.goto(room_url)
        page.wait_for_selector('body[data-call-state="prejoin"]', state="attached")
        page.wait_for_function(PREVIEW_PLAYING_JS, timeout=10_000)
        page.wait_for_function(JOIN_READY_JS, polling=100, timeout=10_000)
        page.locator('[data-action="join"]').click()
        page.wait_for_function("() => window.__timeToMedia.frame !== null", timeout=20_000)
        result = page.evaluate("() => window.__timeToMedia")
        page.locator('[data-action="leave"]').click()
        page.wait_for_selector('body[data-call-state="left"]', state="attached")
    finally:
        context.close()
    host.wait_for_function("() => window.meet.peerIds().length === 0", timeout=10_000)
    return {
        stage: result[stage] - result["click"] if result[stage] is not None else float("nan")
        for stage in ("inCall", "connected", "frame")
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="measured runs (default 10)")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured first runs (default 1)")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    load_before = os.getloadavg()
    workdir = Path(tempfile.mkdtemp(prefix="meet-ttm-"))
    servers = LiveServers(workdir=workdir).start()
    try:
        sessions = servers.create_users("ana", "bob")
        slug = servers.create_room("ana", "Time to media")
        room_url = servers.url(f"/rooms/{slug}/")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM_PATH, headless=True, args=CHROMIUM_ARGS
            )
            host_context = browser.new_context()
            add_session_cookie(host_context, servers.url(), sessions["ana"])
            host = host_context.new_page()
            host.goto(room_url)
            host.wait_for_function(JOIN_READY_JS, polling=100, timeout=10_000)
            host.locator('[data-action="join"]').click()
            host.wait_for_selector('body[data-call-state="in-call"]', state="attached")

            timings: list[float] = []
            for index in range(args.warmup + args.runs):
                stages = measure_once(browser, servers, sessions["bob"], room_url, host)
                label = "warm-up" if index < args.warmup else f"run {index - args.warmup + 1}"
                print(
                    f"{label:>8}: first frame {stages['frame']:7.1f} ms "
                    f"(in-call {stages['inCall']:6.1f}, connected {stages['connected']:6.1f})",
                    flush=True,
                )
                if index >= args.warmup:
                    timings.append(stages["frame"])
            version = browser.version
            browser.close()
    finally:
        servers.stop()

    timings.sort()
    p90 = statistics.quantiles(timings, n=10, method="inclusive")[8] if len(timings) > 1 else 0
    print(
        f"\nChromium {version}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"{len(timings)} runs; load average {load_before[0]:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after"
    )
    print(
        f"time to media (ms): median {statistics.median(timings):.0f}, p90 {p90:.0f}, "
        f"min {timings[0]:.0f}, max {timings[-1]:.0f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
