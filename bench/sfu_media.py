"""Media cost of a call, mesh against SFU: what each browser uploads and encodes as a call grows.

For each media mode (``mesh``, ``sfu``) and room size (default 2, 4, 6, 8) it opens that many
Chromium pages (fake camera at 320x180, 15 frames a second: the tests' size, so eight pages fit
two cores) in one room and waits until every page plays every other's video. Then, over a
measuring window, it reads each page's WebRTC statistics and Janus's CPU time:

- upload: bits per second a page sends, summed over all its RTCPeerConnections (outbound-rtp
  ``bytesSent``, audio and video, plus headers);
- encoders: outbound video streams whose ``framesEncoded`` advanced (one per peer in a mesh;
  the simulcast layers Chromium sends at this size, in the SFU);
- Janus CPU: its process's user+system time over the window, as a share of one core;
- join to first remote frame: for the last person to join, from the click on Join to the first
  frame of any remote video (``requestVideoFrameCallback``).

Janus, daphne and Chromium run inside a network namespace of their own (Janus gathers no
loopback candidates), as in tests/browser/test_sfu.py; run as root, on a quiet machine:

    .venv/bin/python bench/sfu_media.py                   # sizes 2 4 6 8, both modes
    .venv/bin/python bench/sfu_media.py --sizes 2 4 --window 10 --modes sfu
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from tests.support import tools  # noqa: E402
from tests.support.browser import CHROMIUM_ARGS, JOIN_READY_JS, add_session_cookie  # noqa: E402
from tests.support.janus import Janus, NetworkNamespace  # noqa: E402
from tests.support.servers import LiveServers  # noqa: E402
from tests.support.sfu import PAGE_INSTRUMENTS, REMOTE_FRAMES_JS  # noqa: E402

# The click on Join and the first frame of any remote video, in page time.
FIRST_FRAME_JS = """
(() => {
  const t = (window.__firstFrame = { click: null, frame: null });
  document.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (t.click === null && target && target.closest('[data-action="join"]')) {
      t.click = performance.now();
    }
  }, true);
  const watched = new WeakSet();
  new MutationObserver(() => {
    for (const video of document.querySelectorAll("[data-peer-id] video")) {
      if (watched.has(video)) continue;
      watched.add(video);
      video.requestVideoFrameCallback(() => { if (t.frame === null) t.frame = performance.now(); });
    }
  }).observe(document, { childList: true, subtree: true });
})();
"""

# Bytes sent and frames encoded so far, per outbound stream of every connection of the page.
OUTBOUND_JS = """
async () => {
  const out = { bytes: 0, video: {} };
  for (const [index, pc] of window.__pcs.entries()) {
    if (pc.connectionState === "closed") continue;
    (await pc.getStats()).forEach((report) => {
      if (report.type !== "outbound-rtp") return;
      out.bytes += (report.bytesSent || 0) + (report.headerBytesSent || 0);
      if (report.kind === "video") out.video[`${index}:${report.id}`] = report.framesEncoded || 0;
    });
  }
  return out;
}
"""


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_page(browser, servers: LiveServers, session: str, url: str):
    context = browser.new_context(viewport={"width": 640, "height": 400})
    add_session_cookie(context, servers.url(), session)
    context.add_init_script(PAGE_INSTRUMENTS)
    context.add_init_script(FIRST_FRAME_JS)
    page = context.new_page()
    page.goto(url)
    page.wait_for_function(JOIN_READY_JS, polling=100, timeout=30_000)
    page.locator('[data-action="join"]').click()
    page.wait_for_selector('body[data-call-state="in-call"]', state="attached", timeout=30_000)
    return context, page


def all_videos_play(pages, size: int, timeout: float = 120) -> int:
    """Wait until every page plays every other's video; the fewest any page plays at the end
    (``size - 1`` when the call converged within ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        counts = [page.evaluate(REMOTE_FRAMES_JS) for page in pages]
        playing = min(sum(1 for frames in c.values() if frames > 30) for c in counts)
        if playing == size - 1 or time.monotonic() > deadline:
            return playing
        time.sleep(0.5)


def measure(mode: str, size: int, window: float, browser, servers, sessions, janus) -> dict:
    slug = servers.create_room("u0", f"bench {mode} {size}", media_mode=mode)
    url = servers.url(f"/rooms/{slug}/")
    contexts, pages = [], []
    try:
        for index in range(size):
            context, page = open_page(browser, servers, sessions[f"u{index}"], url)
            contexts.append(context)
            pages.append(page)
        playing = all_videos_play(pages, size)
        last = pages[-1].evaluate("window.__firstFrame")
        join_to_frame_ms = last["frame"] - last["click"] if last["frame"] is not None else None
        # The mesh connections of a call that switched have closed by now; let rates settle.
        time.sleep(3)
        before = [page.evaluate(OUTBOUND_JS) for page in pages]
        janus_before = cpu_seconds(janus.process.pid)
        started = time.monotonic()
        time.sleep(window)
        after = [page.evaluate(OUTBOUND_JS) for page in pages]
        elapsed = time.monotonic() - started
        janus_cpu = (cpu_seconds(janus.process.pid) - janus_before) / elapsed
        uploads = [
            (a["bytes"] - b["bytes"]) * 8 / elapsed / 1000
            for a, b in zip(after, before, strict=True)
        ]
        encoders = [
            sum(1 for key, frames in a["video"].items() if frames > b["video"].get(key, 0))
            for a, b in zip(after, before, strict=True)
        ]
        connections = [
            page.evaluate(
                "() => window.__pcs.filter((pc) => pc.connectionState === 'connected').length"
            )
            for page in pages
        ]
        return {
            "mode": mode,
            "size": size,
            "upload_kbps_median": round(statistics.median(uploads)),
            "upload_kbps_max": round(max(uploads)),
            "encoders_median": statistics.median(encoders),
            "connections_median": statistics.median(connections),
            "janus_cpu_percent": round(janus_cpu * 100, 1),
            "join_to_first_remote_frame_ms": round(join_to_frame_ms) if join_to_frame_ms else None,
            # Fewer than size - 1: within two minutes some page never played everyone.
            "fewest_videos_playing": playing,
        }
    finally:
        for context in contexts:
            context.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2, 4, 6, 8])
    parser.add_argument("--modes", nargs="+", default=["mesh", "sfu"], choices=["mesh", "sfu"])
    parser.add_argument("--window", type=float, default=10.0, help="seconds measured per run")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    workdir = Path(tempfile.mkdtemp(prefix="meet-sfu-bench-"))
    results = []
    with NetworkNamespace() as namespace, Janus(workdir / "janus", namespace=namespace) as janus:
        servers = LiveServers(
            workdir=workdir / "live",
            namespace=namespace,
            extra_env={**janus.environment(), "SFU_THRESHOLD": "100", "LOG_LEVEL": "ERROR"},
        ).start()
        try:
            sessions = servers.create_users(*(f"u{index}" for index in range(max(args.sizes))))
            launcher = namespace.chromium_launcher(workdir, tools.chromium_path())
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=str(launcher), headless=True, args=CHROMIUM_ARGS
                )
                for mode in args.modes:
                    for size in args.sizes:
                        result = measure(mode, size, args.window, browser, servers, sessions, janus)
                        print(json.dumps(result), flush=True)
                        results.append(result)
                browser.close()
        finally:
            servers.stop()
    print(
        f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    header = (
        "mode",
        "size",
        "upload kbit/s (median/max)",
        "encoders",
        "conns",
        "Janus CPU %",
        "join→frame ms",
    )
    print(" | ".join(header))
    for r in results:
        print(
            f"{r['mode']} | {r['size']} | {r['upload_kbps_median']}/{r['upload_kbps_max']} | "
            f"{r['encoders_median']} | {r['connections_median']} | {r['janus_cpu_percent']} | "
            f"{r['join_to_first_remote_frame_ms']} | {r['fewest_videos_playing']}/{r['size'] - 1}"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
