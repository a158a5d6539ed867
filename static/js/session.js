// What the server's frames and close codes mean for this page, as data: the call state to enter,
// the notice to show, the toast to raise. No DOM and no socket here, so the rules are tested
// under Node (tests/js/session.test.mjs); room.js applies the answers to the page.

import { format, t, tn } from "./i18n.js";
import { CLOSE, displayName } from "./protocol.js";

/** @typedef {import("./protocol.js").User} User */
/** @typedef {import("./protocol.js").WelcomeMessage} WelcomeMessage */
/** @typedef {"prejoin" | "joining" | "in-call" | "left" | "kicked" | "ended" | "refused"} CallState */
/**
 * How a call ends: the state the page enters, the notice's `data-notice` kind, and its text.
 * @typedef {{state: CallState, kind: string, text: string}} Ending
 */

/**
 * The ending after a final close code (protocol.js FINAL_CLOSE_CODES). A refusal's own `error`
 * message, when the server sent one, says it better than the generic text.
 * @param {{code: number, message: string, maxParticipants: number}} close
 * @returns {Ending}
 */
export function endingForClose({ code, message, maxParticipants }) {
  if (code === CLOSE.KICKED) {
    return { state: "kicked", kind: "kicked", text: t("You were removed from the meeting.") };
  }
  if (code === CLOSE.ROOM_ENDED) return { state: "ended", kind: "room-ended", text: t("The meeting has ended.") };
  const full = tn("This meeting is full (%(count)s person).", "This meeting is full (%(count)s people).", maxParticipants);
  /** @type {Record<number, [string, string]>} */
  const notices = {
    [CLOSE.ROOM_LOCKED]: ["locked", t("This room is locked. Only its owner and staff can enter right now.")],
    [CLOSE.ROOM_FULL]: ["full", format(full, { count: maxParticipants })],
    [CLOSE.RATE_LIMITED]: ["rate-limited", t("You were disconnected for sending too many messages.")],
    [CLOSE.REPLACED]: ["replaced", t("This call continues in another window or tab.")],
    [CLOSE.LOBBY_DENIED]: ["lobby-denied", t("The host did not let you into this meeting.")],
    [CLOSE.KNOCK_EXPIRED]: ["knock-expired", t("Nobody let you in in time. You can ask to join again.")],
  };
  const [kind, fallback] = notices[code] || ["refused", t("You cannot join this meeting.")];
  return { state: "refused", kind, text: message || fallback };
}

/**
 * The ending a `kicked` frame brings: who removed us, and why, when the server says.
 * @param {{by?: User, reason?: string, banned?: boolean}} frame
 * @returns {Ending}
 */
export function endingForKicked(frame) {
  const name = frame.by ? displayName(frame.by) : "";
  let text;
  if (frame.banned) {
    text = name ? format(t("You were banned from this room by %(name)s."), { name }) : t("You were banned from this room.");
  } else {
    text = name
      ? format(t("You were removed from the meeting by %(name)s."), { name })
      : t("You were removed from the meeting.");
  }
  if (frame.reason) text += ` ${format(t("Reason: %(reason)s"), { reason: frame.reason })}`;
  return { state: "kicked", kind: "kicked", text };
}

/**
 * The ending a `room-ended` frame brings.
 * @param {{by?: User}} frame
 * @returns {Ending}
 */
export function endingForRoomEnded(frame) {
  const text = frame.by
    ? format(t("%(name)s ended the meeting for everyone."), { name: displayName(frame.by) })
    : t("The host ended the meeting for everyone.");
  return { state: "ended", kind: "room-ended", text };
}

/**
 * The toast for a `peer-joined`: a newcomer is announced, a peer back from a lost connection
 * too; a peer that only resumed its signaling (it never looked gone) is not.
 * @param {{name: string, known: boolean, wasLost: boolean, resumed: boolean}} facts
 * @returns {string | null}
 */
export function peerJoinedToast({ name, known, wasLost, resumed }) {
  if (!known && !resumed) return format(t("%(name)s joined."), { name });
  if (wasLost) return format(t("%(name)s is back."), { name });
  return null;
}

/**
 * The toast for a `peer-left`, by its reason.
 * @param {string} name
 * @param {string} reason
 * @returns {string}
 */
export function peerLeftToast(name, reason) {
  if (reason === "kicked") return format(t("%(name)s was removed from the meeting."), { name });
  if (reason === "connection-lost") return format(t("%(name)s lost their connection…"), { name });
  return format(t("%(name)s left."), { name });
}

/**
 * What a `welcome` is for this page: the first of the session, a resume of the same peer (keep
 * every connection), or a new session because the old one could not be resumed (start over).
 * @param {string} selfPeerId our peer id so far ("" before the first welcome)
 * @param {WelcomeMessage} welcome
 * @returns {"first" | "resumed" | "new-session"}
 */
export function welcomeKind(selfPeerId, welcome) {
  if (!selfPeerId) return "first";
  return welcome.self.peer_id === selfPeerId ? "resumed" : "new-session";
}
