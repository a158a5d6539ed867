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
