// The signaling protocol, version 1, as JSDoc types (see docs/protocol.md for the prose).
// Nothing here talks to the network; signaling.js sends and receives these shapes.

import { t } from "./i18n.js";

/**
 * The protocol version this client speaks; the server states its own in `welcome.protocol`.
 * Within a version the contract only ever adds fields and message types, so the number changes
 * only with an incompatible change: it is a major version. A server that writes a compatible
 * revision as 1.2 or "1.2" shares major version 1 with this client.
 */
export const PROTOCOL_VERSION = 1;

/**
 * How the server's protocol version fits this client.
 * @param {unknown} version `welcome.protocol` as received
 * @returns {"same" | "compatible" | "incompatible"} "compatible": the major version matches but
 *   the server is at another revision; "incompatible": another major version, or none at all
 */
export function protocolFit(version) {
  if (String(version) === String(PROTOCOL_VERSION)) return "same";
  // parseInt reads the major part of 1.2 and "1.2"; anything else (a missing field) gives NaN.
  const readable = typeof version === "number" || typeof version === "string";
  const major = readable ? parseInt(String(version), 10) : NaN;
  return major === PROTOCOL_VERSION ? "compatible" : "incompatible";
}

/**
 * Whether a participant with this role may mute, remove, lock and end (rooms/moderation.py).
 * @param {string} role
 * @returns {boolean}
 */
export function moderatesRoom(role) {
  return role === "owner" || role === "moderator";
}

/**
 * @typedef {{id: number, username: string, display_name: string}} User
 * @typedef {"owner" | "moderator" | "member" | "guest"} Role
 * @typedef {{audio: boolean, video: boolean, screen: boolean, hand: boolean}} PeerState
 * @typedef {{peer_id: string, user: User, role: Role, state: PeerState, resumed?: boolean}} Peer
 * @typedef {{id: number, peer_id: string, user: User, text: string, sent_at: string}} ChatMessage
 * @typedef {{slug: string, name: string, locked: boolean, max_participants: number}} RoomInfo
 * @typedef {{type: "offer" | "answer" | "pranswer" | "rollback", sdp?: string}} SessionDescription
 * @typedef {{candidate: string, sdpMid: string | null, sdpMLineIndex: number | null,
 *            usernameFragment: string | null}} IceCandidate
 */

/**
 * Server → client messages.
 *
 * @typedef {{type: "welcome", protocol: number, resumed?: boolean,
 *            self: {peer_id: string, user: User, role: Role, resume_token: string},
 *            room: RoomInfo, peers: Peer[], chat: ChatMessage[], lobby?: Knock[],
 *            media?: CallMedia}} WelcomeMessage
 * @typedef {"mesh" | "sfu"} MediaMode
 * @typedef {{mode: MediaMode, last_n: number, kept?: boolean}} CallMedia
 * @typedef {"camera" | "screen"} SfuFeedKind
 * @typedef {{peer_id: string, feed: SfuFeedKind}} SfuFeed
 * @typedef {{mid: string, peer_id: string, feed: SfuFeedKind, kind: "audio" | "video"}} SfuStream
 * @typedef {{type: "media-mode", media: CallMedia}} MediaModeMessage
 * @typedef {{type: "sfu-feeds", feeds: SfuFeed[]}} SfuFeedsMessage
 * @typedef {{type: "sfu-answer", feed: SfuFeedKind, sdp: string}} SfuAnswerMessage
 * @typedef {{type: "sfu-offer", sdp: string | null, streams: SfuStream[]}} SfuOfferMessage
 * @typedef {{type: "sfu-talking", peer_id: string, talking: boolean}} SfuTalkingMessage
 * @typedef {{type: "sfu-reset" | "sfu-ready" | "sfu-failed"}} SfuStatusMessage
 * @typedef {{type: "sfu-trickle", target: SfuFeedKind | "subscriber",
 *            candidate: IceCandidate | null}} SfuTrickleInMessage
 * @typedef {SfuFeedsMessage | SfuAnswerMessage | SfuOfferMessage | SfuTalkingMessage |
 *           SfuStatusMessage | SfuTrickleInMessage} SfuServerMessage
 * @typedef {{id: number, user: User, role: Role, since: string, removed?: boolean}} Knock
 * @typedef {{type: "lobby", status: "waiting", hosts_present: boolean,
 *            timeout_seconds: number}} LobbyMessage
 * @typedef {{type: "knock", knock: Knock}} KnockMessage
 * @typedef {{type: "knock-ended", id: number,
 *            status: "admitted" | "denied" | "expired" | "left", by?: User}} KnockEndedMessage
 * @typedef {{type: "peer-joined", peer: Peer}} PeerJoinedMessage
 * @typedef {{type: "peer-left", peer_id: string,
 *            reason: "left" | "kicked" | "connection-lost"}} PeerLeftMessage
 * @typedef {{type: "sdp", from: string, description: SessionDescription}} SdpInMessage
 * @typedef {{type: "ice", from: string, candidate: IceCandidate | null}} IceInMessage
 * @typedef {{type: "chat"} & ChatMessage} ChatInMessage
 * @typedef {{type: "state", peer_id: string, state: PeerState}} StateInMessage
 * @typedef {{type: "room", locked?: boolean}} RoomMessage
 * @typedef {{type: "role", peer_id: string, role: Role}} RoleMessage
 * @typedef {{type: "kicked" | "mute-request" | "room-ended", by?: User, reason?: string,
 *            banned?: boolean}} ModerationMessage
 * @typedef {{type: "error", code: string, message: string, ref?: string}} ErrorMessage
 * @typedef {{type: "pong"}} PongMessage
 * @typedef {{type: "reaction", peer_id: string, emoji: string}} ReactionInMessage
 * @typedef {WelcomeMessage | PeerJoinedMessage | PeerLeftMessage | SdpInMessage | IceInMessage |
 *           ChatInMessage | StateInMessage | RoomMessage | RoleMessage | ModerationMessage |
 *           ErrorMessage | PongMessage | ReactionInMessage | LobbyMessage | KnockMessage |
 *           KnockEndedMessage | MediaModeMessage | SfuServerMessage} ServerMessage
 */

/**
 * Client → server messages.
 *
 * @typedef {{type: "sdp", to: string, description: SessionDescription}} SdpOutMessage
 * @typedef {{type: "ice", to: string, candidate: IceCandidate | null}} IceOutMessage
 * @typedef {{type: "chat", text: string}} ChatOutMessage
 * @typedef {{type: "state"} & Partial<PeerState>} StateOutMessage
 * @typedef {{type: "kick" | "mute" | "ban", peer_id: string, reason?: string}}
 *            TargetedModerationMessage
 * @typedef {{type: "lock", locked: boolean}} LockMessage
 * @typedef {{type: "end" | "ping" | "leave"}} BareMessage
 * @typedef {{type: "reaction", emoji: string}} ReactionOutMessage
 * @typedef {{type: "admit", knock_id?: number, all?: boolean}} AdmitMessage
 * @typedef {{type: "deny", knock_id: number}} DenyMessage
 * @typedef {{type: "sfu-publish", feed: SfuFeedKind, sdp: string}} SfuPublishMessage
 * @typedef {{type: "sfu-unpublish", feed: SfuFeedKind}} SfuUnpublishMessage
 * @typedef {{type: "sfu-subscribe", feeds: SfuFeed[]}} SfuSubscribeMessage
 * @typedef {{type: "sfu-start", sdp: string}} SfuStartMessage
 * @typedef {{type: "sfu-trickle", target: SfuFeedKind | "subscriber",
 *            candidate: IceCandidate | null}} SfuTrickleMessage
 * @typedef {{type: "sfu-configure",
 *            layers: {peer_id: string, feed: SfuFeedKind, layer: 0 | 1 | 2 | null}[]}}
 *            SfuConfigureMessage
 * @typedef {SfuPublishMessage | SfuUnpublishMessage | SfuSubscribeMessage | SfuStartMessage |
 *           SfuTrickleMessage | SfuConfigureMessage} SfuClientMessage
 * @typedef {SdpOutMessage | IceOutMessage | ChatOutMessage | StateOutMessage |
 *           TargetedModerationMessage | LockMessage | BareMessage | ReactionOutMessage |
 *           AdmitMessage | DenyMessage | SfuClientMessage} ClientMessage
 */

/**
 * WebSocket close codes (docs/protocol.md, "error codes and close codes"). The name of a code,
 * lower-cased, is the error code its refusal carries where there is one (4409 `room_full`).
 */
export const CLOSE = Object.freeze({
  /** After the client's own `leave`, or any close the client makes on purpose. */
  LEFT: 1000,
  /** Made by this client: a socket that heard nothing for too long is closed and reopened. */
  SILENT: 4000,
  NOT_AUTHENTICATED: 4401,
  /** Banned, not allowed into a private room, or a page from another origin. */
  FORBIDDEN: 4403,
  ROOM_NOT_FOUND: 4404,
  /** The server swept this socket's presence behind its back: resume. */
  LOST: 4408,
  ROOM_FULL: 4409,
  KICKED: 4410,
  ROOM_ENDED: 4411,
  /** Another socket resumed this peer; reconnecting would fight it for the same identity. */
  REPLACED: 4412,
  /** This user already has the most sockets the server allows in this room (other tabs). */
  TOO_MANY_CONNECTIONS: 4413,
  /**
   * Server side only: the client stopped reading and its unsent frames passed the server's
   * limit, so the TCP connection is aborted; the page sees 1006 and resumes.
   */
  SEND_BACKLOG: 4414,
  /** A host turned this knock away from the lobby. */
  LOBBY_DENIED: 4416,
  /** Nobody answered this knock in time; the person may knock again. */
  KNOCK_EXPIRED: 4417,
  ROOM_LOCKED: 4423,
  RATE_LIMITED: 4429,
  /** The server is restarting (a rolling restart of the workers): resume at once elsewhere. */
  SERVICE_RESTART: 4503,
  /** A message failed on the server in a way it did not foresee: resume. */
  SERVER_ERROR: 1011,
});

/** @typedef {typeof CLOSE[keyof typeof CLOSE]} CloseCode */

/**
 * Close codes after which reconnecting cannot help: the page ends the call with a notice.
 * @type {ReadonlySet<number>}
 */
export const FINAL_CLOSE_CODES = new Set([
  CLOSE.NOT_AUTHENTICATED,
  CLOSE.FORBIDDEN,
  CLOSE.ROOM_NOT_FOUND,
  CLOSE.ROOM_FULL,
  CLOSE.KICKED,
  CLOSE.ROOM_ENDED,
  CLOSE.REPLACED,
  CLOSE.TOO_MANY_CONNECTIONS,
  CLOSE.ROOM_LOCKED,
  CLOSE.RATE_LIMITED,
  CLOSE.LOBBY_DENIED,
  CLOSE.KNOCK_EXPIRED,
]);

/**
 * The name of a close code as the error codes spell it ("room_full"), or "" for an unknown one.
 * @param {number} code
 * @returns {string}
 */
export function closeName(code) {
  for (const [name, value] of Object.entries(CLOSE)) {
    if (value === code) return name.toLowerCase();
  }
  return "";
}

/** The `code` of an `error` frame (docs/protocol.md, "error codes and close codes"). */
export const ERROR = Object.freeze({
  BAD_MESSAGE: "bad_message",
  UNKNOWN_TYPE: "unknown_type",
  UNKNOWN_PEER: "unknown_peer",
  FORBIDDEN: "forbidden",
  TOO_LARGE: "too_large",
  RATE_LIMITED: "rate_limited",
  /** An `sdp`/`ice` relay the server could not take right now; it may be sent again. */
  BUSY: "busy",
  // Admission refusals: the socket is then closed with the code of the same name.
  NOT_AUTHENTICATED: "not_authenticated",
  ROOM_NOT_FOUND: "room_not_found",
  ROOM_LOCKED: "room_locked",
  ROOM_FULL: "room_full",
  TOO_MANY_CONNECTIONS: "too_many_connections",
  /** A chat, state or moderation message was taken but could not be broadcast; send it again. */
  NOT_DELIVERED: "not_delivered",
  // The lobby (issue #12).
  LOBBY_DENIED: "lobby_denied",
  KNOCK_EXPIRED: "knock_expired",
  /** An `admit` or `deny` for a knock that is no longer waiting (another host decided). */
  UNKNOWN_KNOCK: "unknown_knock",
  /** A knocker may only ping until it is let in. */
  IN_LOBBY: "in_lobby",
  /** An SFU request the server could not carry out (no SFU in this call, Janus refusing). */
  SFU_UNAVAILABLE: "sfu_unavailable",
});

/** @typedef {typeof ERROR[keyof typeof ERROR]} ErrorCode */

/**
 * Read one text frame from the server: the message, or null for a frame that is not JSON or not
 * an object with a string `type` (such frames are ignored, never fatal).
 * @param {unknown} data the WebSocket message event's data
 * @returns {ServerMessage | null}
 */
export function parseServerFrame(data) {
  if (typeof data !== "string") return null;
  let message;
  try {
    message = JSON.parse(data);
  } catch {
    return null;
  }
  if (!message || typeof message !== "object" || typeof message.type !== "string") return null;
  return /** @type {ServerMessage} */ (message);
}

/**
 * Build the wire form of a candidate; RTCIceCandidate is not plain JSON in every browser.
 * @param {RTCIceCandidate | null} candidate
 * @returns {IceCandidate | null}
 */
export function candidateToWire(candidate) {
  if (!candidate) return null;
  return {
    candidate: candidate.candidate,
    sdpMid: candidate.sdpMid,
    sdpMLineIndex: candidate.sdpMLineIndex,
    usernameFragment: candidate.usernameFragment,
  };
}

/**
 * The name to show for a user: display name, else username.
 * @param {User | undefined | null} user
 * @returns {string}
 */
export function displayName(user) {
  if (!user) return t("Someone");
  return user.display_name || user.username || t("Someone");
}
