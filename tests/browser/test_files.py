"""Received files in Chromium: offered as a download only, never run in the app's origin.

A peer chooses a file's name, MIME type and bytes. The receiver's page must treat all three as
untrusted: an HTML file with a script, opened from the "Save" link, would otherwise run with
the receiver's session (a blob: URL has the page's origin).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from tests.browser.conftest import sha256_of

pytestmark = pytest.mark.browser

# Records the type of every Blob the page turns into a URL, so a test can see what a blob: link
# would be served as, and every message posted to the page (a received page could post to its
# opener).
WATCH_BLOBS_JS = """
(() => {
  window.__e2eBlobTypes = {};
  window.__e2eMessages = [];
  const createObjectURL = URL.createObjectURL.bind(URL);
  URL.createObjectURL = (object) => {
    const url = createObjectURL(object);
    window.__e2eBlobTypes[url] = object.type;
    return url;
  };
  window.addEventListener("message", (event) => window.__e2eMessages.push(String(event.data)));
})();
"""

# What a hostile sender puts in an HTML file: every effect it has is visible from the app's
# origin afterwards (title, localStorage, a cookie, a message to the opener).
HOSTILE_HTML = b"""<!doctype html>
<title>received</title>
<script>
  document.title = "PWNED";
  localStorage.setItem("pwned", "yes");
  document.cookie = "pwned=yes; path=/";
  if (window.opener) window.opener.postMessage("pwned", "*");
</script>
"""


def received_link(member):
    link = member.page.locator("a[download][data-file-sha256]")
    expect(link).to_have_count(1, timeout=30_000)
    return link


def test_received_html_file_is_an_octet_stream_download_whose_script_never_runs(
    call_room, tmp_path
):
    call = call_room("ana")
    bob = call.open("bob", init_script=WATCH_BLOBS_JS)
    ana = call.members["ana"]
    call.wait_all_connected()
    path = tmp_path / "invoice.html"
    path.write_bytes(HOSTILE_HTML)

    ana.send_file(path, to=bob.peer_id)

    link = received_link(bob)
    expect(link).to_have_attribute("data-file-sha256", sha256_of(path))
    expect(link).to_have_attribute("download", "invoice.html")
    # A download link only: nothing that would open (and render) it in a browsing context.
    expect(link).not_to_have_attribute("target", "_blank")
    href = link.get_attribute("href")
    assert href.startswith("blob:"), href

    # A user opening the link in a tab (or anything else navigating to it) gets a download,
    # not a page of the app's origin running the sender's script.
    opened = bob.context.new_page()
    downloads = []
    opened.on("download", lambda download: downloads.append(download))
    navigation_error = ""
    try:
        opened.goto(href)
    except PlaywrightError as error:
        navigation_error = str(error)
    assert bob.page.evaluate("() => localStorage.getItem('pwned')") is None
    assert "pwned" not in {cookie["name"] for cookie in bob.context.cookies()}
    assert bob.page.evaluate("() => window.__e2eMessages") == []
    assert opened.title() != "PWNED"
    assert "net::ERR_ABORTED" in navigation_error or "Download is starting" in navigation_error
    # The sender said text/html; the receiver's blob ignores it.
    assert bob.page.evaluate("(href) => window.__e2eBlobTypes[href]", href) == (
        "application/octet-stream"
    )
    download = downloads[0] if downloads else opened.wait_for_event("download")
    assert sha256_of(download.path()) == sha256_of(path)
    opened.close()

    # The Save link itself downloads the same bytes under the sanitised name.
    with bob.page.expect_download() as download_info:
        link.click()
    assert download_info.value.suggested_filename == "invoice.html"
    assert bob.page.title() != "PWNED"
    call.assert_clean()


def test_received_file_name_loses_its_path_and_bidi_override(call_room):
    call = call_room("ana", "bob")
    ana, bob = call.members["ana"], call.members["bob"]
    call.wait_all_connected()
    hostile_name = "../../evil\u202etxt.html"

    ana.send_file(
        {"name": hostile_name, "mimeType": "text/html", "buffer": HOSTILE_HTML}, to=bob.peer_id
    )

    link = received_link(bob)
    expect(link).to_have_attribute("download", "eviltxt.html")
    incoming = bob.page.locator('[data-transfer-id][data-direction="in"]')
    expect(incoming.locator(".transfer-name")).to_have_text("eviltxt.html")
    with bob.page.expect_download() as download_info:
        link.click()
    assert download_info.value.suggested_filename == "eviltxt.html"
    call.assert_clean()
