"""The call as a keyboard user, a screen-reader user and a sighted user without video see it.

Each test presses keys or looks at pixels and computed colours, as a person would notice them;
none inspects the markup for the fix itself.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import NAVIGATION_TIMEOUT_MS, UI_TIMEOUT_MS, Call, Member
from tests.support import tools
from tests.support.browser import JOIN_READY_JS, add_session_cookie

pytestmark = pytest.mark.browser

# axe-core is a development dependency (package.json); nothing under node_modules is served.
AXE_PATH = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"

# Each violation as a few lines: rule, impact, what it asks, and the first nodes that break it.
AXE_RUN_JS = r"""
async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 4).map(
      (n) => `${n.target.join(" ")} :: ${n.failureSummary.replace(/\s+/g, " ")}`,
    ),
  }));
}
"""

# WCAG 2.x relative luminance and contrast of two CSS colours, computed in the page so that any
# colour syntax the browser understands can be compared.
CONTRAST_JS = """
(() => {
  const probe = document.createElement("canvas").getContext("2d");
  const rgb = (css) => {
    probe.clearRect(0, 0, 1, 1);
    probe.fillStyle = "#000";
    probe.fillStyle = css;
    probe.fillRect(0, 0, 1, 1);
    return [...probe.getImageData(0, 0, 1, 1).data].slice(0, 3);
  };
  const lum = ([r, g, b]) => {
    const c = [r, g, b].map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  window.__contrast = (a, b) => {
    const [x, y] = [lum(Array.isArray(a) ? a : rgb(a)), lum(Array.isArray(b) ? b : rgb(b))];
    return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
  };
})()
"""

# What the focused element is, and whether a person could see it: it has a box on screen and
# the topmost element at its centre is itself or inside it (not a covering layer).
FOCUSED_JS = """
() => {
  const node = document.activeElement;
  if (!node || node === document.body) return {tag: "body", visible: true, inCall: false};
  // A visually hidden file input shows its focus on the label around it.
  const shown = node.getBoundingClientRect().width <= 1 && node.closest("label") || node;
  const box = shown.getBoundingClientRect();
  const x = box.left + box.width / 2, y = box.top + box.height / 2;
  const top = box.width > 0 && box.height > 0 ? document.elementFromPoint(x, y) : null;
  const visible = Boolean(top) && (shown === top || shown.contains(top) || top.contains(shown)) &&
    x >= 0 && y >= 0 && x <= innerWidth && y <= innerHeight;
  return {
    tag: node.tagName.toLowerCase(),
    text: (node.getAttribute("aria-label") || node.textContent || node.name || "")
      .trim().slice(0, 40),
    action: node.dataset.action || "",
    visible,
    inCall: Boolean(node.closest("#call")),
  };
}
"""


def test_shift_tab_from_the_microphone_never_reaches_the_hidden_header_and_tab_starts_in_the_call(
    call_room,
):
    call = call_room("ana")
    page = call.members["ana"].page

    call.members["ana"].action("toggle-audio").focus()
    page.keyboard.press("Shift+Tab")
    before_mic = page.evaluate(FOCUSED_JS)
    assert before_mic["visible"], f"Shift+Tab from the microphone focused a hidden {before_mic}"
    assert before_mic["text"] != "Log out"

    # From the top of the page, the first Tab lands on the call's own controls.
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("Tab")
    first = page.evaluate(FOCUSED_JS)
    assert first["inCall"] and first["visible"], f"the first Tab stop is {first}"

    # A whole round of Tab stops: every one of them is something the person can see.
    stops = [first]
    for _ in range(40):
        page.keyboard.press("Tab")
        stop = page.evaluate(FOCUSED_JS)
        if stop == first:
            break
        stops.append(stop)
    hidden = [stop for stop in stops if not stop["visible"]]
    assert hidden == [], f"Tab reached controls nobody can see: {hidden}"
    assert any(stop["action"] == "leave" for stop in stops), stops


def test_keyboard_focus_ring_is_clearly_visible_on_the_dark_theme(call_room):
    call = call_room("ana")
    page = call.members["ana"].page
    page.evaluate(CONTRAST_JS)
    call.members["ana"].action("toggle-audio").focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Shift+Tab")
    ring = page.evaluate(
        """() => {
          const style = getComputedStyle(document.activeElement);
          const around = getComputedStyle(document.querySelector("#controls")).backgroundColor;
          const base = getComputedStyle(document.body).backgroundColor;
          const behind = around === "rgba(0, 0, 0, 0)" ? base : around;
          return {
            style: style.outlineStyle, width: parseFloat(style.outlineWidth),
            contrast: window.__contrast(style.outlineColor, behind),
            action: document.activeElement.dataset.action,
          };
        }"""
    )
    page.screenshot(path="/tmp/meet-focus-ring.png")
    assert ring["action"] == "toggle-audio"
    assert ring["style"] != "none" and ring["width"] >= 2, f"no solid focus outline: {ring}"
    assert ring["contrast"] >= 3, f"the focus ring stands out only {ring['contrast']:.2f}:1"


def test_escape_closes_the_chat_and_people_panels_even_from_the_message_box(call_room):
    call = call_room("ana")
    ana = call.members["ana"]
    page = ana.page

    ana.action("toggle-chat").click()
    field = page.locator('form#chat-form [name="text"]')
    expect(field).to_be_visible()
    field.focus()
    page.keyboard.type("half a thought")
    page.keyboard.press("Escape")
    expect(page.locator("#chat-panel")).to_be_hidden()
    expect(ana.action("toggle-chat")).to_have_attribute("aria-pressed", "false")
    expect(ana.action("toggle-chat")).to_be_focused()

    ana.action("toggle-participants").click()
    expect(page.locator("#participants")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#participants")).to_be_hidden()


def _avatar_pixels(member, tile) -> dict:
    """Pixels of the avatar circle in ``tile``: how many are bright (letters) and its colour."""
    avatar = tile.locator(".tile-avatar")
    box = avatar.bounding_box()
    centre_x, centre_y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    clip = {"x": centre_x - 40, "y": centre_y - 40, "width": 80, "height": 80}
    png = member.page.screenshot(clip=clip)
    return member.page.evaluate(
        """async (bytes) => {
          const bitmap = await createImageBitmap(new Blob([new Uint8Array(bytes)]));
          const canvas = document.createElement("canvas");
          canvas.width = bitmap.width; canvas.height = bitmap.height;
          const context = canvas.getContext("2d");
          context.drawImage(bitmap, 0, 0);
          const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
          let bright = 0;
          let brightest = [0, 0, 0];
          const sum = (p) => p[0] + p[1] + p[2];
          for (let i = 0; i < data.length; i += 4) {
            const p = [data[i], data[i + 1], data[i + 2]];
            if (sum(p) > 600) bright += 1;
            if (sum(p) > sum(brightest)) brightest = p;
          }
          // Just inside the circle's top edge, above the letters.
          const row = Math.round(canvas.height * 0.12);
          const at = 4 * canvas.width * row + 4 * (canvas.width >> 1);
          const circle = [data[at], data[at + 1], data[at + 2]];
          return {bright, brightest, circle, contrast: window.__contrast(brightest, circle)};
        }""",
        list(png),
    )


def test_a_camera_off_tile_shows_initials_on_a_colour_of_each_persons_own(call_room):
    call = call_room("ana", "bob")
    ana, bob = call.members["ana"], call.members["bob"]
    call.wait_all_connected()
    bob.action("toggle-video").click()
    ana.action("toggle-video").click()
    bob_tile = ana.tile(bob.peer_id)
    expect(bob_tile).to_have_attribute("data-video", "off")
    expect(ana.page.locator("[data-self]")).to_have_attribute("data-video", "off")
    ana.page.evaluate(CONTRAST_JS)

    bobs = _avatar_pixels(ana, bob_tile)
    own = _avatar_pixels(ana, ana.page.locator("[data-self]"))
    ana.page.screenshot(path="/tmp/meet-camera-off-tiles.png")
    assert bobs["bright"] > 30, f"Bob's initials are not drawn on his tile: {bobs}"
    assert own["bright"] > 30, f"Ana's initials are not drawn on her own tile: {own}"
    assert bobs["contrast"] >= 4.5, f"initials on the circle: {bobs}"
    assert own["contrast"] >= 4.5, f"initials on the circle: {own}"
    assert bobs["circle"] != own["circle"], "Ana and Bob have circles of the same colour"
    # A screen reader names the tile too.
    expect(bob_tile).to_have_attribute("role", "group")
    expect(bob_tile).to_have_attribute("aria-label", "Bob, camera")


def test_toggle_buttons_keep_one_name_and_say_their_state_with_aria_pressed(call_room):
    call = call_room("ana")
    ana = call.members["ana"]
    for action, name in (("toggle-audio", "Microphone"), ("toggle-video", "Camera")):
        button = ana.action(action)
        pressed = button.get_attribute("aria-pressed")
        expect(button).to_have_accessible_name(name)
        button.click()
        expect(button).not_to_have_attribute("aria-pressed", pressed)
        expect(button).to_have_accessible_name(name)


def test_danger_buttons_have_readable_text(call_room):
    call = call_room("ana")
    ana = call.members["ana"]
    ana.page.evaluate(CONTRAST_JS)
    ana.action("toggle-participants").click()
    end = ana.action("end")
    expect(end).to_be_visible()
    contrast = end.evaluate(
        "(node) => { const s = getComputedStyle(node);"
        " return window.__contrast(s.color, s.backgroundColor); }"
    )
    print(f"End for everyone: {contrast:.2f}:1")
    assert contrast >= 4.5, f"'End for everyone' reads at {contrast:.2f}:1"


# The camera is refused by the browser (the person blocked it in the site settings) whenever the
# page asks for video while window.__cameraBlocked is true.
BLOCK_CAMERA_JS = """
(() => {
  const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = (constraints) => {
    if (constraints && constraints.video && window.__cameraBlocked) {
      return Promise.reject(new DOMException("Permission denied", "NotAllowedError"));
    }
    return original(constraints);
  };
})();
"""


def test_a_blocked_camera_says_how_to_unblock_it_before_and_during_the_call(call_room):
    call = call_room("ana", join=False)
    blocked_from_start = call.open(
        "bob", join=False, init_script="window.__cameraBlocked = true;" + BLOCK_CAMERA_JS
    )
    notice = blocked_from_start.page.locator("[data-prejoin-notice]")
    expect(notice).to_contain_text("blocked")
    expect(notice).to_contain_text("address bar")

    ana = call.members["ana"]
    ana.page.close()
    ana.page = ana.context.new_page()
    ana.context.add_init_script(BLOCK_CAMERA_JS)
    ana.page.goto(call.url)
    call.join(ana)
    ana.action("toggle-video").click()
    expect(ana.action("toggle-video")).to_have_attribute("aria-pressed", "false")
    ana.page.evaluate("window.__cameraBlocked = true")
    ana.action("toggle-video").click()
    toast = ana.page.locator("#toasts")
    expect(toast).to_contain_text("blocked")
    expect(toast).to_contain_text("address bar")


def test_home_page_says_just_now_and_keeps_each_detail_of_a_room_on_one_line(call_room):
    call = call_room("ana", "bob", join=False)
    page = call.members["bob"].page
    page.set_viewport_size({"width": 320, "height": 700})
    page.goto(call.servers.url("/"))
    meta = page.locator(".room-card-meta", has_text="visited").first
    expect(meta).to_contain_text("just now")
    expect(meta).not_to_contain_text("0 minutes")
    lines = meta.evaluate(
        """(meta) => {
          const edge = meta.getBoundingClientRect().left;
          return [...meta.children].map((item) => ({
            text: item.textContent.trim(),
            pieces: item.getClientRects().length,
            // An item that starts a line must not show a separator in front of it.
            startsLine: Math.abs(item.getBoundingClientRect().left - edge) < 2,
            separator: getComputedStyle(item, "::before").content,
          }));
        }"""
    )
    assert all(line["pieces"] == 1 for line in lines), f"a detail breaks across lines: {lines}"
    assert not any(line["text"].startswith("·") for line in lines), lines


def _axe_browser(call: Call, username: str | None, viewport: dict | None = None) -> Member:
    """Like ``call.browse``, in a context that ignores the page's CSP, for the axe tests only.

    The CSP allows scripts from the site's own files only (``script-src 'self'``), and
    Playwright's ``add_script_tag(path=...)`` inlines the file, which that policy refuses.
    """
    context = call.chromium.new_context(
        viewport=viewport or {"width": 1280, "height": 800}, bypass_csp=True
    )
    context.set_default_timeout(UI_TIMEOUT_MS)
    context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
    if username:
        add_session_cookie(context, call.servers.url(), call.sessions[username])
    name = username or "visitor"
    member = Member(name, name.title(), context, context.new_page())
    call.members[member.username] = member
    return member


def _axe(page, where: str) -> list[str]:
    """axe-core's violations on ``page`` as it is now, one readable entry each."""
    if not page.evaluate("typeof window.axe === 'object'"):
        tools.require("axe-core", AXE_PATH.exists(), "npm ci; ./run test runs it when npm is there")
        page.add_script_tag(path=str(AXE_PATH))
    return [
        f"{where}: {v['id']} ({v['impact']}) {v['help']}\n      " + "\n      ".join(v["nodes"])
        for v in page.evaluate(AXE_RUN_JS)
    ]


def _assert_no_violations(found: list[str]) -> None:
    assert found == [], f"{len(found)} axe-core violations:\n" + "\n".join(found)


def test_axe_finds_nothing_on_the_sites_pages(call_room):
    call = call_room("ana", join=False)
    found: list[str] = []
    visitor = _axe_browser(call, None)
    for path, where in (
        ("/", "landing"),
        ("/accounts/login/", "login"),
        ("/accounts/signup/", "signup"),
    ):
        visitor.page.goto(call.servers.url(path))
        found += _axe(visitor.page, where)

    owner = _axe_browser(call, "ana")
    owner.page.goto(call.servers.url("/"))
    found += _axe(owner.page, "home")
    owner.page.goto(call.servers.url(f"/rooms/{call.slug}/edit/"))
    found += _axe(owner.page, "room settings")
    owner.page.goto(call.url)
    owner.page.wait_for_selector('body[data-call-state="prejoin"]', state="attached")
    found += _axe(owner.page, "pre-join")

    admin = _axe_browser(call, "admin")
    for path, where in (("/admin/", "admin"), ("/admin/rooms/room/", "admin rooms")):
        admin.page.goto(call.servers.url(path))
        found += _axe(admin.page, where)
    _assert_no_violations(found)


def test_axe_finds_nothing_in_the_call_with_panels_open_and_a_shared_screen(call_room):
    call = call_room("ana", join=False)
    # The owner's own page, so that the moderation controls are checked too.
    call.close("ana")
    ana = _axe_browser(call, "ana")
    ana.page.goto(call.url)
    call.join(ana)
    call.open("bob")
    call.wait_all_connected([ana, call.members["bob"]])
    found = _axe(ana.page, "call grid")
    ana.action("toggle-chat").click()
    call.members["bob"].send_chat("hello https://example.org")
    expect(ana.page.locator("#chat-log [data-chat-id]")).to_have_count(1)
    found += _axe(ana.page, "call, chat open")
    ana.action("toggle-participants").click()
    found += _axe(ana.page, "call, people open")
    call.members["bob"].action("toggle-screen").click()
    expect(ana.page.locator("#stage")).not_to_have_attribute("data-layout", "grid")
    found += _axe(ana.page, "call, spotlight")
    _assert_no_violations(found)


def test_axe_finds_nothing_on_the_notices_that_end_a_call(call_room):
    call = call_room("ana", join=False)
    owner = call.members["ana"]
    call.join(owner)
    kicked = _axe_browser(call, "bob")
    kicked.page.goto(call.url)
    call.join(kicked)
    ended = _axe_browser(call, "cy")
    ended.page.goto(call.url)
    call.join(ended)
    owner.action("toggle-participants").click()
    owner.action("kick", data_target_peer=kicked.peer_id).click()
    owner.action("confirm").click()
    kicked.wait_call_state("kicked")
    found = _axe(kicked.page, "kicked notice")
    owner.action("end").click()
    owner.action("confirm").click()
    ended.wait_call_state("ended")
    found += _axe(ended.page, "ended notice")
    _assert_no_violations(found)


def test_pre_join_says_the_room_is_full_and_lets_in_as_soon_as_a_seat_frees(call_room):
    call = call_room("ana", "bob", room={"max_participants": 2})
    cy = call.open("cy", join=False)
    seats = cy.page.locator("[data-room-status]")
    expect(seats).to_contain_text("full")
    expect(seats).to_contain_text("2 of 2")
    expect(cy.action("join")).to_be_disabled()

    call.members["bob"].action("leave").click()
    # The page polls every few seconds: the freed seat shows without a reload.
    expect(seats).to_contain_text("1 of 2", timeout=12_000)
    expect(seats).not_to_contain_text("full")
    expect(cy.action("join")).to_be_enabled()
    call.join(cy)
    call.wait_all_connected([call.members["ana"], cy])


def test_the_same_account_in_a_second_tab_joins_muted_and_the_others_see_one_person(call_room):
    call = call_room("ana", "bob")
    ana, bob = call.members["ana"], call.members["bob"]
    call.wait_all_connected()
    expect(ana.action("toggle-audio")).to_have_attribute("aria-pressed", "true")

    second_tab = Member("ana", "Ana", ana.context, ana.context.new_page())
    second_tab.page.goto(call.url)
    call.join(second_tab)
    expect(second_tab.action("toggle-audio")).to_have_attribute("aria-pressed", "false")
    expect(second_tab.page.locator("#toasts")).to_contain_text("another tab")
    # Bob hears one microphone from Ana: the first tab's.
    expect(bob.tile(second_tab.peer_id)).to_have_attribute("data-audio", "off")
    expect(bob.tile(ana.peer_id)).to_have_attribute("data-audio", "on")

    bob.action("toggle-participants").click()
    people = bob.page.locator("#participants [data-participant]:visible")
    expect(people).to_have_count(2)
    expect(bob.page.locator("[data-participant-count]")).to_have_text("2")
    expect(people.filter(has_text="Ana")).to_contain_text("2")
    # On Bob's stage Ana is one tile too: the first tab's. The second's view stays in the page,
    # hidden, still connected (every remote video sits in its peer's data-peer-id).
    expect(bob.tile(ana.peer_id)).to_be_visible()
    expect(bob.tile(second_tab.peer_id)).to_be_hidden()
    expect(bob.tile(second_tab.peer_id)).to_have_attribute("data-connection-state", "connected")
    expect(bob.page.locator('[data-view="camera"][data-peer-id]:visible')).to_have_count(1)
    # Ana's second tab does not show (or play) her first tab: her self view stands for it.
    expect(second_tab.tile(ana.peer_id)).to_be_hidden()
    assert second_tab.page.evaluate(
        "(id) => document.querySelector(`[data-peer-id='${id}'][data-view='camera'] video`).muted",
        ana.peer_id,
    )
    expect(second_tab.tile(bob.peer_id)).to_be_visible()
    # When the first tab leaves, the second is Ana's tile for Bob.
    ana.action("leave").click()
    expect(bob.tile(second_tab.peer_id)).to_be_visible()


def test_axe_finds_nothing_on_the_guest_pre_join_the_lobby_and_the_hosts_lobby_card(call_room):
    from tests.browser.test_lobby import _invite_url, _set_room

    call = call_room("ana", join=False)
    _set_room(call, guests_allowed=True, lobby="guests")
    call.close("ana")
    ana = _axe_browser(call, "ana")
    ana.page.goto(call.url)
    call.join(ana)
    guest = _axe_browser(call, None)
    guest.page.goto(_invite_url(call))
    guest.page.wait_for_function(JOIN_READY_JS, polling=100)
    found = _axe(guest.page, "guest pre-join")
    guest.page.locator('input[name="display_name"]').fill("Gil")
    guest.action("join").click()
    guest.wait_call_state("lobby")
    found += _axe(guest.page, "waiting in the lobby")
    expect(ana.page.locator("[data-lobby-peer]")).to_have_count(1)
    found += _axe(ana.page, "host's lobby card")
    ana.page.locator('[data-lobby-peer] [data-action="admit"]').click()
    guest.wait_call_state("in-call")
    expect(ana.page.locator('[data-role="guest"][data-view="camera"]')).to_have_count(1)
    ana.action("toggle-participants").click()
    found += _axe(ana.page, "call with a guest, people open")
    _assert_no_violations(found)
