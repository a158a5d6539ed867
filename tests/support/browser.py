"""Debian's Chromium driven by Playwright, with a fake camera, microphone and screen."""

from __future__ import annotations

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--auto-select-desktop-capture-source=Entire screen",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--autoplay-policy=no-user-gesture-required",
]


def add_session_cookie(context, base_url: str, session_key: str) -> None:
    """Log a browser context in by giving it a session cookie made on the server."""
    context.add_cookies([{"name": "sessionid", "value": session_key, "url": base_url}])


# True once the pre-join preview has settled: the camera preview plays or the notice explains
# why not, and the Join button has not moved for 300 ms. The device pickers appear about a second
# after the page does and push Join down, so an earlier click can land where it used to be.
JOIN_READY_JS = """
() => {
  const button = document.querySelector('[data-action="join"]');
  if (!button || document.body.dataset.callState !== "prejoin") return false;
  const box = button.getBoundingClientRect();
  const key = `${box.x},${box.y},${box.width},${box.height}`;
  const now = performance.now();
  if (!window.__e2eJoinBox || window.__e2eJoinBox.key !== key) {
    window.__e2eJoinBox = { key, since: now };
    return false;
  }
  const notice = document.querySelector("[data-prejoin-notice]");
  const settled = [...document.querySelectorAll("video")].some((video) => video.videoWidth > 0)
    || Boolean(notice && notice.textContent.trim());
  return settled && now - window.__e2eJoinBox.since >= 300;
}
"""


# Frames a remote <video> decoded since the watch ``token`` began, as a page function
# ``(token, key, frames) => count``: ``frames`` is the video's totalVideoFrames now (-1 while it
# has none). A <video> whose source is set again (stage.js does when a tile's tracks change, as
# when a peer's media moves from the mesh to the SFU) counts from zero again, so the count is
# summed across such restarts, one call (one poll) at a time.
FRAMES_GAINED_JS = """
(token, key, frames) => {
  const watch = ((window.__framesGained ??= {})[token] ??= {});
  const seen = (watch[key] ??= { last: frames, count: 0 });
  if (frames >= 0) {
    seen.count += seen.last >= 0 && frames >= seen.last ? frames - seen.last : frames;
    seen.last = frames;
  }
  return seen.count;
}
"""
