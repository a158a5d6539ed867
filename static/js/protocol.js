// The signaling protocol, version 1, as JSDoc types (see docs/protocol.md for the prose).
// Nothing here talks to the network; signaling.js sends and receives these shapes.

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
 *            room: RoomInfo, peers: Peer[], chat: ChatMessage[]}} WelcomeMessage
 * @typedef {{type: "peer-joined", peer: Peer}} PeerJoinedMessage
 * @typedef {{type: "peer-left", peer_id: string,
 *            reason: "left" | "kicked" | "connection-lost"}} PeerLeftMessage
 * @typedef {{type: "sdp", from: string, description: SessionDescription}} SdpInMessage
 * @typedef {{type: "ice", from: string, candidate: IceCandidate | null}} IceInMessage
 * @typedef {{type: "chat"} & ChatMessage} ChatInMessage
 * @typedef {{type: "state", peer_id: string, state: PeerState}} StateInMessage
 * @typedef {{type: "room", locked?: boolean}} RoomMessage
 * @typedef {{type: "role", peer_id: string, role: Role}} RoleMessage
 * @typedef {{type: "kicked" | "mute-request" | "room-ended", by?: User, reason?: string}}
 *            ModerationMessage
 * @typedef {{type: "error", code: string, message: string, ref?: string}} ErrorMessage
 * @typedef {{type: "pong"}} PongMessage
 * @typedef {WelcomeMessage | PeerJoinedMessage | PeerLeftMessage | SdpInMessage | IceInMessage |
 *           ChatInMessage | StateInMessage | RoomMessage | RoleMessage | ModerationMessage |
 *           ErrorMessage | PongMessage} ServerMessage
 */

/**
 * Client → server messages.
 *
 * @typedef {{type: "sdp", to: string, description: SessionDescription}} SdpOutMessage
 * @typedef {{type: "ice", to: string, candidate: IceCandidate | null}} IceOutMessage
 * @typedef {{type: "chat", text: string}} ChatOutMessage
 * @typedef {{type: "state"} & Partial<PeerState>} StateOutMessage
 * @typedef {{type: "kick" | "mute", peer_id: string}} TargetedModerationMessage
 * @typedef {{type: "lock", locked: boolean}} LockMessage
 * @typedef {{type: "end" | "ping" | "leave"}} BareMessage
 * @typedef {SdpOutMessage | IceOutMessage | ChatOutMessage | StateOutMessage |
 *           TargetedModerationMessage | LockMessage | BareMessage} ClientMessage
 */

/** Longest chat message the server accepts, after trimming. */
export const CHAT_MAX_LENGTH = 2000;

/** How long the server keeps a dropped peer resumable, in milliseconds. */
export const RESUME_GRACE_MS = 60_000;

/**
 * Close codes after which reconnecting cannot help; each maps to the notice the user sees.
 * @type {Record<number, string>}
 */
export const FINAL_CLOSE_CODES = {
  4401: "not_authenticated",
  4403: "forbidden",
  4404: "room_not_found",
  4409: "room_full",
  4410: "kicked",
  4411: "room_ended",
  // Another socket resumed this peer; reconnecting would fight it for the same identity.
  4412: "replaced",
  4423: "room_locked",
  4429: "rate_limited",
};

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
  if (!user) return "Someone";
  return user.display_name || user.username || "Someone";
}
