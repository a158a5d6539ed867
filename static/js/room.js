// The room page's entry point: reads #room-config, runs the pre-join preview, then wires the
// signaling connection, the call and the UI parts together. Each part knows only its own job;
// the decisions that join them (what a message means for the page) are made here.

import { Call } from "./call.js";
import { FileTransfers } from "./files.js";
import { format, t } from "./i18n.js";
import { IceProvider } from "./ice.js";
import { LevelMeter, LocalMedia } from "./media.js";
import { loadPreference } from "./preferences.js";
import { displayName, moderatesRoom, PROTOCOL_VERSION, protocolFit } from "./protocol.js";
import { RoomStatusWatcher, seatNotice } from "./room-status.js";
import {
  endingForClose,
  endingForKicked,
  endingForRoomEnded,
  peerJoinedToast,
  peerLeftToast,
  welcomeKind,
} from "./session.js";
import { Signaling } from "./signaling.js";
import { Alerts, MutedSpeechHint } from "./ui/alerts.js";
import { wireAudioSettings } from "./ui/audio-settings.js";
import { ChatPanel } from "./ui/chat.js";
import { CallSettings } from "./ui/call-settings.js";
import { $, el, setToggle } from "./ui/dom.js";
import { FilesPanel } from "./ui/files-panel.js";
import { InviteCard } from "./ui/invite-card.js";
import { LobbyCard, lobbyWaitingText } from "./ui/lobby.js";
import { showNotice, toast } from "./ui/notices.js";
import { ParticipantsPanel } from "./ui/participants.js";
import { Prejoin } from "./ui/prejoin.js";
import { floatReaction, ReactionsMenu } from "./ui/reactions.js";
import { installShortcuts, SHORTCUTS } from "./ui/shortcuts.js";
import { Stage } from "./ui/stage.js";

/** @typedef {import("./protocol.js").ServerMessage} ServerMessage */
/** @typedef {import("./protocol.js").WelcomeMessage} WelcomeMessage */
/** @typedef {import("./protocol.js").PeerState} PeerState */
/** @typedef {import("./call.js").RemotePeer} RemotePeer */
/** @typedef {import("./files.js").Transfer} Transfer */
/**
 * @typedef {{slug: string, name: string, description: string, locked: boolean,
 *            is_private: boolean, max_participants: number, role: string,
 *            user: {id: number, username: string, display_name: string}, ws_path: string,
 *            turn_url: string, invite_url: string, home_url: string, edit_url: string | null,
 *            admin_url: string | null, chat_max_length: number, reaction_emoji: string[],
 *            peer_state_default: import("./protocol.js").PeerState,
 *            resume_window_seconds: number, status_url: string,
 *            status_poll_seconds: number, knock: boolean,
 *            guest: {enter_url: string, invite: string} | null}} RoomConfig
 * @typedef {"prejoin" | "joining" | "lobby" | "in-call" | "left" | "kicked" | "ended" |
 *           "refused"} CallState
 */

/** @type {RoomConfig} */
const config = JSON.parse($("#room-config").textContent || "{}");
const body = document.body;
// Every call starts as a mesh on the page; the welcome or a `media-mode` message may say SFU.
body.dataset.mediaMode = "mesh";
let selfName = displayName(config.user);
const TERMINAL_STATES = new Set(["left", "kicked", "ended", "refused"]);

const media = new LocalMedia();
const meter = new LevelMeter();
const ice = new IceProvider(config.turn_url);
const signaling = new Signaling(config.ws_path);
// TURN credentials are fetched while the user looks at the preview, so Join does not wait.
// A guest gets TURN credentials only once it has given its name (the server knows it then).
/** @type {Promise<import("./ice.js").IceConfig> | null} */
let iceReady = config.guest ? null : ice.get();

/** @type {Call | null} */
let call = null;
/** @type {Stage | null} */
let stage = null;
/** @type {FileTransfers | null} */
let files = null;
/** @type {FilesPanel | null} */
let filesPanel = null;
let selfPeerId = "";
let selfRole = config.role;
let wasOpen = false;
// The server's protocol revision is mentioned once per page, not after every reconnect.
let protocolNoticeShown = false;
/** @type {"chat" | "participants" | null} */
let openPanel = null;
/** @type {PeerState} */
const local = { audio: false, video: false, screen: false, hand: false };

/** @param {CallState} state */
function setCallState(state) {
  body.dataset.callState = state;
}

/** @returns {CallState} */
function callState() {
  return /** @type {CallState} */ (body.dataset.callState);
}

// A read-only handle for tests and debugging; it exposes nothing that could change the call.
Object.defineProperty(window, "meet", {
  value: Object.freeze({
    get selfPeerId() {
      return selfPeerId;
    },
    /** @param {string} peerId */
    peerConnection(peerId) {
      return call?.peers.get(peerId)?.pc ?? null;
    },
    peerIds() {
      return call ? [...call.peers.keys()] : [];
    },
    signalingState() {
      return signaling.state;
    },
  }),
});

// --- Panels and controls -------------------------------------------------------------------

const controls = {
  audio: /** @type {HTMLButtonElement} */ ($('#controls [data-action="toggle-audio"]')),
  video: /** @type {HTMLButtonElement} */ ($('#controls [data-action="toggle-video"]')),
  screen: /** @type {HTMLButtonElement} */ ($('#controls [data-action="toggle-screen"]')),
  hand: /** @type {HTMLButtonElement} */ ($('#controls [data-action="raise-hand"]')),
  chat: /** @type {HTMLButtonElement} */ ($('#controls [data-action="toggle-chat"]')),
  people: /** @type {HTMLButtonElement} */ ($('#controls [data-action="toggle-participants"]')),
  leave: /** @type {HTMLButtonElement} */ ($('#controls [data-action="leave"]')),
};

function syncControls() {
  local.audio = Boolean(media.micTrack) && media.audioEnabled;
  local.video = Boolean(media.cameraTrack) && media.videoEnabled;
  local.screen = Boolean(media.screenStream);
  setToggle(controls.audio, local.audio, t("Microphone"), t("Microphone (M)"));
  setToggle(controls.video, local.video, t("Camera"), t("Camera (V)"));
  setToggle(controls.screen, local.screen, t("Present your screen"));
  setToggle(controls.hand, local.hand, t("Raise hand"), t("Raise hand (H)"));
  controls.leave.setAttribute("aria-pressed", "false");
  stage?.updateSelf(media.previewStream, local, local.video);
  stage?.setSelfPresenting(local.screen);
  showSelfInList();
}

/** Our own row in the participants list: name, role and what we send. */
function showSelfInList() {
  if (!selfPeerId) return;
  participants.upsert({ peerId: selfPeerId, user: config.user, role: selfRole, state: local, self: true });
}

/** @param {Partial<PeerState>} changes */
function sendState(changes) {
  if (callState() === "in-call" || callState() === "joining") {
    signaling.send({ type: "state", ...changes });
  }
}

/** @param {"chat" | "participants" | null} name */
function setPanel(name) {
  openPanel = name;
  $("#chat-panel").hidden = name !== "chat";
  $("#participants").hidden = name !== "participants";
  controls.chat.setAttribute("aria-pressed", String(name === "chat"));
  controls.people.setAttribute("aria-pressed", String(name === "participants"));
  body.dataset.panel = name || "";
  if (name === "chat") chat.opened();
  showAlertCounts();
}

const chat = new ChatPanel({
  send: (text) => {
    if (signaling.state === "closed") return false;
    signaling.send({ type: "chat", text });
    return true;
  },
  isOpen: () => openPanel === "chat",
  maxLength: config.chat_max_length,
});

const participants = new ParticipantsPanel({
  onMute: (peerId) => {
    signaling.send({ type: "mute", peer_id: peerId });
    const peer = call?.peers.get(peerId);
    toast(format(t("Asked %(name)s to mute."), { name: displayName(peer?.user) }));
  },
  onKick: (peerId, name) => {
    const question = t("Remove %(name)s from the meeting? They cannot rejoin for a while unless the room's owner lets them back in.");
    confirmAction(format(question, { name }), t("Remove"), () => {
      signaling.send({ type: "kick", peer_id: peerId });
    });
  },
  onLock: (locked) => {
    participants.setLocked(locked);
    signaling.send({ type: "lock", locked });
  },
  onBan: (peerId, name) => {
    confirmAction(
      format(t("Ban %(name)s from this room? They are removed now and cannot come back until the owner lifts the ban."), {
        name,
      }),
      t("Ban"),
      (reason) => signaling.send({ type: "ban", peer_id: peerId, reason }),
      { reason: true },
    );
  },
  onEnd: () => {
    confirmAction(
      t("End the meeting for everyone? Everybody is disconnected; the room stays open for the next meeting."),
      t("End for everyone"),
      () => signaling.send({ type: "end" }),
    );
  },
});

/**
 * Ask before something that cannot be undone. With `reason`, the dialog also offers an optional
 * reason (shown to the person it is about), handed to `onConfirm` trimmed.
 * @param {string} question
 * @param {string} verb
 * @param {(reason: string) => void} onConfirm
 * @param {{reason?: boolean}} [options]
 */
function confirmAction(question, verb, onConfirm, options = {}) {
  const dialog = /** @type {HTMLDialogElement} */ ($("#confirm-dialog"));
  $("[data-confirm-text]", dialog).textContent = question;
  const reasonField = /** @type {HTMLElement} */ ($("[data-confirm-reason]", dialog));
  const reasonInput = /** @type {HTMLInputElement} */ ($('input[name="reason"]', reasonField));
  reasonField.hidden = !options.reason;
  reasonInput.value = "";
  const confirm = /** @type {HTMLButtonElement} */ ($('[data-action="confirm"]', dialog));
  confirm.textContent = verb;
  confirm.onclick = () => {
    dialog.close();
    onConfirm(options.reason ? reasonInput.value.trim() : "");
  };
  dialog.showModal();
}

async function toggleAudio() {
  const problem = await media.setAudioEnabled(!local.audio);
  if (problem) toast(problem, { tone: "error" });
  syncControls();
  sendState({ audio: local.audio });
}

async function toggleVideo() {
  const problem = await media.setVideoEnabled(!local.video);
  if (problem) toast(problem, { tone: "error" });
  syncControls();
  sendState({ video: local.video });
}

async function toggleScreen() {
  if (media.screenStream) {
    media.stopScreen();
  } else {
    const problem = await media.startScreen();
    if (problem) toast(problem, { tone: "error" });
  }
  syncControls();
  sendState({ screen: local.screen });
}

/** @returns {Promise<boolean>} whether the clipboard took the link */
async function copyInvite() {
  try {
    await navigator.clipboard.writeText(config.invite_url);
    toast(t("Invite link copied. Anyone with it can ask to join."));
    return true;
  } catch {
    // Without clipboard permission, show the link so it can be copied by hand.
    const field = /** @type {HTMLInputElement} */ ($("#invite-fallback"));
    field.value = config.invite_url;
    field.hidden = false;
    field.select();
    toast(t("Copy the invite link from the box above the controls."));
    return false;
  }
}

// The owner who starts the call alone is offered the link to share, as in Meet.
const inviteCard = new InviteCard({ stage: $("#stage"), inviteUrl: config.invite_url, onCopy: copyInvite });
new ReactionsMenu({
  button: $('#controls [data-action="reactions"]'),
  emoji: config.reaction_emoji || [],
  onPick: (emoji) => signaling.send({ type: "reaction", emoji }),
});

function wireControls() {
  controls.audio.addEventListener("click", () => toggleAudio());
  controls.video.addEventListener("click", () => toggleVideo());
  controls.screen.addEventListener("click", () => toggleScreen());
  controls.hand.addEventListener("click", () => {
    local.hand = !local.hand;
    syncControls();
    sendState({ hand: local.hand });
  });
  controls.chat.addEventListener("click", () => setPanel(openPanel === "chat" ? null : "chat"));
  controls.people.addEventListener("click", () =>
    setPanel(openPanel === "participants" ? null : "participants"),
  );
  for (const button of document.querySelectorAll('[data-action="close-panel"]')) {
    button.addEventListener("click", () => setPanel(null));
  }
  controls.leave.addEventListener("click", () => leave());
  $('#controls [data-action="copy-invite"]').addEventListener("click", () => copyInvite());
  const help = /** @type {HTMLDialogElement} */ ($("#help-dialog"));
  $('#controls [data-action="help"]').addEventListener("click", () => help.showModal());
  const list = $("#shortcut-list", help);
  for (const shortcut of SHORTCUTS) {
    list.append(el("dt", {}, [el("kbd", { text: shortcut.key.toUpperCase() })]), el("dd", { text: shortcut.label }));
  }
  for (const button of document.querySelectorAll("dialog [data-action='cancel']")) {
    button.addEventListener("click", () => /** @type {HTMLDialogElement} */ (button.closest("dialog")).close());
  }
  document.addEventListener("click", (event) => {
    const target = /** @type {HTMLElement} */ (event.target);
    if (target.closest('[data-action="stop-presenting"]') && media.screenStream) toggleScreen();
  });
  installShortcuts(() => callState() === "in-call");
  document.addEventListener("keydown", closePanelOnEscape);
}

/**
 * Escape closes the open side panel from anywhere, the message box included; an open dialog
 * takes Escape first (the browser closes it).
 * @param {KeyboardEvent} event
 */
function closePanelOnEscape(event) {
  if (event.key !== "Escape" || !openPanel || event.isComposing) return;
  if (document.querySelector("dialog[open]")) return;
  const button = openPanel === "chat" ? controls.chat : controls.people;
  event.preventDefault();
  setPanel(null);
  button.focus();
}

/**
 * The call covers the site's header and the pre-join page; what it covers becomes inert, so no
 * Tab (or screen-reader cursor) reaches a hidden "Log out", and the first Tab is in the call.
 */
function coverPageWithCall() {
  for (const node of document.querySelectorAll(".skip-link, .site-header, .messages, .site-footer, #prejoin")) {
    /** @type {HTMLElement} */ (node).inert = true;
  }
}

// --- The lobby -----------------------------------------------------------------------------

// Hosts decide on knocks here; the server tells every host (knock-ended) once one has decided.
const lobbyCard = new LobbyCard({
  onAdmit: (knockId) => signaling.send({ type: "admit", knock_id: knockId }),
  onDeny: (knockId) => signaling.send({ type: "deny", knock_id: knockId }),
  onAdmitAll: () => signaling.send({ type: "admit", all: true }),
});

/**
 * Wait on the pre-join page (with the camera preview) until a host lets us in. The server may
 * send us here even when the page did not expect it (the room was locked meanwhile).
 * @param {boolean | null} hostsPresent null until the server says
 */
function waitInLobby(hostsPresent) {
  if (callState() === "joining" && !$("#prejoin")) {
    $("#call").hidden = true;
    for (const node of document.querySelectorAll(".skip-link, .site-header, .messages, .site-footer")) {
      /** @type {HTMLElement} */ (node).inert = false;
    }
    prejoin.reopen();
  }
  setCallState("lobby");
  prejoin.showWaiting(lobbyWaitingText(hostsPresent));
}

// --- Joining -------------------------------------------------------------------------------

// While the visitor looks at the preview, the page says whether the room has a seat for them.
const seats = new RoomStatusWatcher(config.status_url, config.status_poll_seconds * 1000);
seats.addEventListener("change", (event) => {
  const status = /** @type {CustomEvent<import("./room-status.js").RoomStatus>} */ (event).detail;
  if (callState() === "prejoin") prejoin.showSeats(seatNotice(status));
});

// The devices and self view this browser chose last time (preferences.js).
media.cameraId = loadPreference("camera");
media.microphoneId = loadPreference("microphone");
media.speakerId = loadPreference("speaker");
$("#prejoin video").classList.toggle("mirrored", loadPreference("mirror"));

const prejoin = new Prejoin({
  media,
  meter,
  onJoin: () => join(),
  onSpeaker: (deviceId) => stage?.setSpeaker(deviceId),
});

const settings = new CallSettings({
  media,
  onSpeaker: (deviceId) => stage?.setSpeaker(deviceId),
  onLayout: (choice) => stage?.setLayoutChoice(choice),
  onSelfView: (shown) => showSelfView(shown),
  onMirror: (mirrored) => stage?.setMirror(mirrored),
  onProblem: (text) => toast(text, { tone: "error" }),
});
$('#controls [data-action="settings"]').addEventListener("click", () => settings.open());
wireAudioSettings({ media, onProblem: (text) => toast(text, { tone: "error" }) });
const alerts = new Alerts();
const mutedHint = new MutedSpeechHint({
  media,
  show: () => toast(t("You are muted — press M or the microphone to speak"), { tone: "warning" }),
});

/** The tab title: unread chat messages and whether someone's hand is up. */
function showAlertCounts() {
  const peers = call ? [...call.peers.values()] : [];
  const hands = peers.filter((peer) => peer.state.hand && !peer.lost).length;
  alerts.showCounts({ unread: chat.unread, hands });
}
$('#controls [data-action="change-layout"]').addEventListener("click", () => settings.openLayout());

/** @param {boolean} shown */
function showSelfView(shown) {
  stage?.setSelfView(shown);
  settings.showSelfView(shown);
  if (!shown) toast(t("Your video is hidden from you; the others still see it. Settings brings it back."));
}

media.addEventListener("trackchange", (event) => {
  const change = /** @type {CustomEvent} */ (event).detail;
  if (change.kind === "audio") meter.attach(change.track);
  if (!stage) return;
  // Devices can arrive after Join (a slow permission prompt); the others must hear about it.
  const before = { audio: local.audio, video: local.video };
  syncControls();
  if (before.audio !== local.audio || before.video !== local.video) {
    sendState({ audio: local.audio, video: local.video });
  }
});
media.addEventListener("screenended", () => {
  // The browser's own "Stop sharing" bar ended it; the controls and the others must follow.
  syncControls();
  sendState({ screen: false });
});
ice.addEventListener("error", (event) => {
  const reason = /** @type {CustomEvent<string>} */ (event).detail;
  console.warn("ice:", reason);
  toast(t("Relay servers are unavailable right now; calls across strict networks may fail."), {
    tone: "warning",
  });
});

/**
 * A guest's name goes to the server first; it answers with the guest and whether it knocks.
 * @returns {Promise<boolean>} whether joining can go on
 */
async function enterAsGuest() {
  if (!config.guest) return true;
  const field = /** @type {HTMLInputElement} */ ($('input[name="display_name"]'));
  const name = field.value.trim();
  if (!name) {
    prejoin.showNotice(t("Enter your name: it is what the others will see."));
    field.focus();
    return false;
  }
  const form = new FormData();
  form.set("display_name", name);
  form.set("invite", config.guest.invite);
  const token = /** @type {HTMLInputElement | null} */ ($('#prejoin input[name="csrfmiddlewaretoken"]'));
  let answer;
  try {
    const response = await fetch(config.guest.enter_url, {
      method: "POST",
      body: form,
      headers: { "X-CSRFToken": token?.value || "" },
      credentials: "same-origin",
    });
    answer = await response.json();
    if (!response.ok) {
      prejoin.showNotice(answer.message || t("You cannot join this meeting."));
      if (answer.error === "bad_name") field.focus();
      return false;
    }
  } catch (error) {
    console.warn("room: guest entry failed", error);
    prejoin.showNotice(t("The server could not be reached. Check your connection and try again."));
    return false;
  }
  config.user = answer.user;
  config.knock = Boolean(answer.knock);
  selfName = displayName(answer.user);
  field.readOnly = true;
  prejoin.showNotice("");
  return true;
}

/** The call replaces the pre-join page (at once, or when the lobby lets us in). */
function showCallPage() {
  prejoin.close();
  $("#call").hidden = false;
  coverPageWithCall();
}

async function join() {
  if (callState() !== "prejoin") return;
  setCallState("joining");
  if (!(await enterAsGuest())) {
    setCallState("prejoin");
    prejoin.showJoinable();
    return;
  }
  seats.stop();
  if (config.knock) waitInLobby(null);
  else showCallPage();
  stage = new Stage({ selfName, selfUserId: config.user.id });
  if (media.speakerId) stage.setSpeaker(media.speakerId);
  stage.setLayoutChoice(loadPreference("layout"));
  stage.setMirror(loadPreference("mirror"));
  stage.setSelfView(loadPreference("selfView"));
  stage.stage.addEventListener("selfview", () => showSelfView(false));
  stage.stage.addEventListener("featured", (event) => {
    call?.setFeaturedPeers(/** @type {CustomEvent<string[]>} */ (event).detail);
  });
  stage.stage.addEventListener("hidden", (event) => {
    call?.setHiddenPeers(/** @type {CustomEvent<string[]>} */ (event).detail);
  });
  stage.stage.addEventListener("pin", (event) => {
    const key = String(/** @type {CustomEvent} */ (event).detail || "");
    call?.setPinned(key.startsWith("camera:") ? key.slice("camera:".length) : "");
  });
  iceReady ??= ice.get();
  const iceConfig = await iceReady;
  call = new Call({
    signaling,
    media,
    iceConfig,
    resumeWindowMs: config.resume_window_seconds * 1000,
    peerStateDefault: config.peer_state_default,
  });
  files = new FileTransfers(call);
  filesPanel = new FilesPanel({
    files,
    onProblem: (text) => toast(text, { tone: "warning" }),
    onReceived: (transfer) => {
      if (openPanel !== "chat") {
        toast(format(t("%(name)s sent you %(file)s."), { name: transfer.peerName, file: transfer.name }));
      }
    },
  });
  wireCall(call);
  ice.addEventListener("change", (event) => call?.setIceConfig(/** @type {CustomEvent} */ (event).detail));
  syncControls();
  mutedHint.start();
  signaling.connect();
}

/** @param {Call} activeCall */
function wireCall(activeCall) {
  const refreshRecipients = () => filesPanel?.setRecipients([...activeCall.peers.values()]);
  activeCall.addEventListener("peer-added", (event) => {
    const peer = /** @type {CustomEvent<RemotePeer>} */ (event).detail;
    stage?.upsertPeer(peer);
    showPeerInList(peer);
    refreshRecipients();
  });
  activeCall.addEventListener("peer-updated", (event) => {
    const peer = /** @type {CustomEvent<RemotePeer>} */ (event).detail;
    if (!activeCall.peers.has(peer.id)) return;
    stage?.upsertPeer(peer);
    showPeerInList(peer);
  });
  activeCall.addEventListener("peer-removed", (event) => {
    const { peer } = /** @type {CustomEvent} */ (event).detail;
    stage?.removePeer(peer.id);
    participants.remove(peer.id);
    refreshRecipients();
    showAlertCounts();
  });
  activeCall.addEventListener("stats", (event) => {
    stage?.updateStats(/** @type {CustomEvent<RemotePeer>} */ (event).detail);
  });
  activeCall.addEventListener("levels", (event) => {
    const peers = /** @type {CustomEvent<RemotePeer[]>} */ (event).detail;
    stage?.updateLevels(peers, local.audio ? meter.level() : 0, local.audio);
  });
}

/** @param {RemotePeer} peer */
function showPeerInList(peer) {
  participants.upsert({
    peerId: peer.id,
    user: peer.user,
    role: peer.role,
    state: peer.state,
    self: false,
    lost: peer.lost,
  });
}

// --- Signaling messages ----------------------------------------------------------------------

signaling.addEventListener("statechange", (event) => {
  const state = /** @type {CustomEvent<string>} */ (event).detail;
  body.dataset.signaling = state;
  const pill = $("[data-signal-label]");
  pill.hidden = state === "open" || state === "closed";
  pill.textContent = state === "reconnecting" ? t("Reconnecting… your call continues") : t("Connecting…");
  if (state === "open" && wasOpen) toast(t("Reconnected."));
  if (state === "open") wasOpen = true;
});

signaling.addEventListener("message", (event) => {
  onMessage(/** @type {CustomEvent<ServerMessage>} */ (event).detail);
});

signaling.addEventListener("final", (event) => {
  const { code, message } = /** @type {CustomEvent} */ (event).detail;
  if (TERMINAL_STATES.has(callState())) return;
  const ending = endingForClose({ code, message, maxParticipants: config.max_participants });
  endCall(ending.state, ending.kind, ending.text);
});

/** @param {ServerMessage} message */
function onMessage(message) {
  if (!call || TERMINAL_STATES.has(callState())) return;
  switch (message.type) {
    case "welcome":
      return onWelcome(message);
    case "peer-joined": {
      const known = call.peers.get(message.peer.peer_id);
      const wasLost = Boolean(known?.lost);
      call.onPeerJoined(message.peer);
      inviteCard.dismiss();
      const name = displayName(message.peer.user);
      const resumed = Boolean(message.peer.resumed);
      const text = peerJoinedToast({ name, known: Boolean(known), wasLost, resumed });
      if (text) toast(text);
      if (!known && !resumed) alerts.peerJoined(call.peers.size + 1);
      return;
    }
    case "peer-left": {
      const peer = call.peers.get(message.peer_id);
      if (!peer) return;
      const name = displayName(peer.user);
      call.onPeerLeft(message.peer_id, message.reason);
      toast(peerLeftToast(name, message.reason));
      return;
    }
    case "sdp":
    case "ice":
      return call.onSignal(message);
    case "reaction":
      return showReaction(message);
    case "chat": {
      const fromOther = chat.isNew(message) && message.peer_id !== selfPeerId;
      chat.add(message);
      if (fromOther && openPanel !== "chat") alerts.chatMessage(displayName(message.user), message.text);
      return showAlertCounts();
    }
    case "state": {
      const before = call.peers.get(message.peer_id)?.state;
      call.onPeerState(message.peer_id, message.state);
      const peer = call.peers.get(message.peer_id);
      if (peer && before && !before.hand && peer.state.hand) {
        toast(format(t("%(name)s raised a hand."), { name: displayName(peer.user) }));
        alerts.handRaised();
      }
      return showAlertCounts();
    }
    case "room":
      if (typeof message.locked === "boolean") {
        if (message.locked !== participants.locked) {
          toast(message.locked ? t("The room is now locked: nobody new can join.") : t("The room is unlocked."));
        }
        showRoomLocked(message.locked);
      }
      return;
    case "role":
      return onRole(message.peer_id, message.role);
    case "mute-request":
      return onMuteRequest(displayName(message.by));
    case "kicked": {
      const ending = endingForKicked(message);
      return endCall(ending.state, ending.kind, ending.text);
    }
    case "room-ended": {
      const ending = endingForRoomEnded(message);
      return endCall(ending.state, ending.kind, ending.text);
    }
    case "lobby":
      return waitInLobby(message.hosts_present);
    case "knock":
      if (lobbyCard.add(message.knock)) {
        toast(format(t("%(name)s wants to join."), { name: displayName(message.knock.user) }));
        alerts.play("join");
      }
      return;
    case "knock-ended":
      return lobbyCard.remove(message.id);
    case "media-mode":
      if (call.mode === "mesh" && message.media.mode === "sfu") {
        toast(t("Many people are here now: the call goes through the server, so each of you sends video only once."));
      }
      return showMediaMode(message.media);
    case "sfu-feeds":
    case "sfu-answer":
    case "sfu-offer":
    case "sfu-talking":
    case "sfu-trickle":
    case "sfu-reset":
    case "sfu-ready":
    case "sfu-failed":
      if (message.type === "sfu-failed") toast(t("The media server cannot be reached; trying again…"), { tone: "warning" });
      return call.onSfuMessage(message);
    case "error":
      return onError(message);
    default:
      console.info("room: ignoring message type", message.type);
  }
}

/** @param {WelcomeMessage} message */
function onWelcome(message) {
  if (!call) return;
  if (!acceptProtocol(message.protocol)) return;
  if (callState() === "lobby") {
    showCallPage();
    toast(t("You were let in."));
  }
  const kind = welcomeKind(selfPeerId, message);
  const resumed = kind === "resumed";
  if (kind === "new-session") {
    // The old session could not be resumed (it expired): start over as a new peer.
    signaling.dropQueue();
    call.removeAll("reset");
    participants.clear();
    toast(t("Your connection was restored as a new session."));
  }
  selfPeerId = message.self.peer_id;
  call.selfPeerId = selfPeerId;
  chat.selfPeerId = selfPeerId;
  selfRole = message.self.role;
  participants.setViewerRole(selfRole);
  stage?.setSelfRole(selfRole);
  if (moderatesRoom(selfRole)) lobbyCard.reset(message.lobby || []);
  else lobbyCard.clear();
  showRoomLocked(Boolean(message.room.locked));
  chat.addHistory(message.chat || []);
  // The media mode first: in an SFU call the peers below get no mesh connection.
  showMediaMode(message.media);
  if (resumed) call.resume(message.peers || []);
  else for (const peer of message.peers || []) call.addPeer(peer, { offer: true });
  if (!resumed && (message.peers || []).some((peer) => peer.user?.id === config.user.id)) {
    joinedTwice();
  }
  setCallState("in-call");
  if ((message.peers || []).length) inviteCard.dismiss();
  else if (selfRole === "owner") inviteCard.show();
  syncControls();
  // The server may have lost our state (a restart); the full state is sent after every welcome.
  sendState({ ...local });
}

/**
 * The call's media mode (mesh or SFU), on the call and on the page (`body[data-media-mode]`).
 * @param {import("./protocol.js").CallMedia | undefined} media
 */
function showMediaMode(media) {
  if (!call) return;
  call.setMedia(media);
  body.dataset.mediaMode = call.mode;
}

/**
 * The same account is already in the call from another tab or device. This one joins with its
 * microphone off and says so: two open microphones of one person in one room echo, and taking
 * over instead would end a call the person may still be using (a laptop for the screen, a phone
 * for the camera). The others see one person in the list (ui/participants.js).
 */
function joinedTwice() {
  if (local.audio) media.setAudioEnabled(false);
  syncControls();
  toast(
    t(
      "You are also in this meeting in another tab or device, so this one joined with the microphone off. Close the other one, or turn the microphone on here if you need it.",
    ),
    { tone: "warning", sticky: true },
  );
}

/**
 * Compare the server's protocol version with this page's. A server upgraded while the page was
 * open is the usual cause, and a reload fetches the matching page. The same major version means
 * the server only added things, so the call goes on; another major version ends it.
 * @param {unknown} version `welcome.protocol`
 * @returns {boolean} whether the call can go on
 */
function acceptProtocol(version) {
  const fit = protocolFit(version);
  if (fit === "same") return true;
  console.warn(`room: the server speaks protocol ${version}, this page ${PROTOCOL_VERSION} (${fit})`);
  if (fit === "incompatible") {
    endCall(
      "refused",
      "outdated",
      t("The server has been updated and this page no longer matches it. Reload the page to join again."),
    );
    return false;
  }
  if (!protocolNoticeShown) {
    protocolNoticeShown = true;
    toast(t("The server has been updated. Reload this page when convenient; your call continues."), {
      tone: "warning",
      sticky: true,
      link: { label: t("Reload"), href: thisPage() },
    });
  }
  return true;
}

/** @returns {string} this page's address, to reload it, try again or rejoin */
function thisPage() {
  return location.pathname + location.search;
}

/**
 * The room's lock as the server last told it: the moderators' button and everyone's badge.
 * @param {boolean} locked
 */
function showRoomLocked(locked) {
  participants.setLocked(locked);
  $("[data-locked-badge]").hidden = !locked;
}

/**
 * A role changed during the call: ours brings or takes away the moderation controls, another's
 * changes their label and what we may do to them.
 * @param {string} peerId
 * @param {import("./protocol.js").Role} role
 */
function onRole(peerId, role) {
  if (peerId !== selfPeerId) {
    call?.onPeerRole(peerId, role);
    return;
  }
  if (role === selfRole) return;
  const wasModerator = moderatesRoom(selfRole);
  selfRole = role;
  participants.setViewerRole(role);
  stage?.setSelfRole(role);
  // A new host learns who waits from the next knocks; a former one stops deciding at once.
  if (!moderatesRoom(role)) lobbyCard.clear();
  showSelfInList();
  if (moderatesRoom(role) !== wasModerator) {
    toast(
      moderatesRoom(role)
        ? t("You are now a moderator: you can mute and remove people, lock and end the meeting.")
        : t("You are no longer a moderator."),
    );
  }
}

/** @param {string} name */
async function onMuteRequest(name) {
  if (local.audio) {
    await media.setAudioEnabled(false);
    syncControls();
    sendState({ audio: false });
  }
  toast(format(t("%(name)s muted your microphone. Unmute when you want to speak."), { name }), { tone: "warning" });
}

/**
 * Float a reaction on its sender's tile: the self view for our own, else the peer's camera tile.
 * @param {import("./protocol.js").ReactionInMessage} message
 */
function showReaction(message) {
  if (!stage) return;
  const own = message.peer_id === selfPeerId;
  const tile = own ? stage.selfTile : stage.cameraTiles.get(message.peer_id);
  if (!tile) return;
  const emoji = message.emoji;
  const label = own
    ? format(t("You reacted %(emoji)s"), { emoji })
    : format(t("%(name)s reacted %(emoji)s"), { name: displayName(call?.peers.get(message.peer_id)?.user), emoji });
  floatReaction(tile, emoji, label);
}

/** @param {import("./protocol.js").ErrorMessage} message */
function onError(message) {
  if (message.ref === "sdp" || message.ref === "ice") {
    // The peer left while our signal was on its way; its removal follows.
    console.info("room: signal not delivered", message.code);
    return;
  }
  if (message.ref === "chat") {
    chat.showError(message.message || t("Your message was not sent."));
    return;
  }
  if (message.ref?.startsWith("sfu-")) {
    // The media server could not do it now (Janus restarting): the SFU session retries.
    console.info("room: SFU request refused", message.ref, message.code);
    call?.sfu?.onRefused(message.ref);
    return;
  }
  if (message.ref === "lock") participants.setLocked(!participants.locked);
  if (!message.ref) return; // admission errors end in a close code, handled by "final"
  toast(message.message || format(t("The server refused that (%(code)s)."), { code: message.code }), { tone: "error" });
}

// --- Ending ----------------------------------------------------------------------------------

function teardown() {
  lobbyCard.clear();
  files?.cancelAll();
  call?.end();
  stage?.clear();
  inviteCard.dismiss();
  participants.clear();
  mutedHint.stop();
  alerts.showCounts({ unread: 0, hands: 0 });
  media.stopAll();
  ice.stop();
  $("#call").hidden = true;
  const dialogs = /** @type {NodeListOf<HTMLDialogElement>} */ (document.querySelectorAll("dialog[open]"));
  for (const dialog of dialogs) dialog.close();
}

/**
 * @param {CallState} state
 * @param {string} kind the notice's data-notice
 * @param {string} text
 */
function endCall(state, kind, text) {
  const joined = Boolean(selfPeerId);
  signaling.close();
  teardown();
  document.getElementById("prejoin")?.remove();
  setCallState(state);
  const titles = {
    kicked: t("You were removed"),
    "room-ended": t("The meeting has ended"),
    locked: t("This room is locked"),
    full: t("This meeting is full"),
    refused: t("You cannot join"),
    "rate-limited": t("Disconnected"),
    replaced: t("Opened elsewhere"),
    "lobby-denied": t("You were not let in"),
    "knock-expired": t("Nobody answered"),
    outdated: t("Please reload the page"),
  };
  /** @type {import("./ui/notices.js").NoticeAction[]} */
  const actions = [{ label: t("Back to home"), href: config.home_url, primary: kind !== "outdated" }];
  if (kind === "outdated") {
    actions.unshift({ label: t("Reload"), href: thisPage(), primary: true });
  } else if (state === "refused" && kind !== "refused") {
    actions.push({ label: t("Try again"), href: thisPage() });
  }
  showNotice({
    kind,
    title: titles[/** @type {keyof titles} */ (kind)] || (joined ? t("The call ended") : t("You cannot join")),
    text,
    actions,
  });
}

function leave() {
  if (TERMINAL_STATES.has(callState())) return;
  signaling.leave();
  teardown();
  setCallState("left");
  showNotice({
    kind: "left",
    title: t("You left the meeting"),
    text: format(t("You left %(room)s."), { room: config.name }),
    actions: [
      { label: t("Rejoin"), href: thisPage(), primary: true },
      { label: t("Back to home"), href: config.home_url },
    ],
  });
}

// Closing the tab is leaving: the others see "left" at once instead of waiting for a timeout.
window.addEventListener("pagehide", () => {
  if (callState() === "in-call" || callState() === "joining") signaling.leave();
});

body.dataset.signaling = "closed";
wireControls();
setCallState("prejoin");
seats.start();
prejoin.start().catch((error) => {
  console.warn("prejoin: could not start", error);
  prejoin.showNotice(t("Your camera and microphone could not be started. You can still join."));
});
