// File transfer over RTCDataChannel: one channel per transfer and recipient, 16 KiB chunks with
// backpressure, progress on both ends, cancel from either side, SHA-256 checked on receipt.
//
// Memory: the sender hashes the file once, slice by slice, with an incremental SHA-256 (the
// browser's SubtleCrypto cannot hash a stream), then streams it to each recipient slice by
// slice. A 50 MB file to seven peers therefore holds about seven slices plus each channel's
// buffer (≈ 1.3 MB per peer), never 50 MB × peers. The receiver assembles the whole file anyway
// to offer it as a download, so it checks the hash with SubtleCrypto over the assembled bytes.
//
// Wire format on a channel labelled "file:<id>": text frames are JSON
//   {kind: "meta", id, name, size, mime, sha256}   sender → receiver, first
//   {kind: "end"}                                  sender → receiver, after the last chunk
//   {kind: "verified", ok: boolean}                receiver → sender, then the receiver closes
//   {kind: "cancel"}                               either way, then the sender of it closes
// and binary frames are the file's bytes, in order.
//
// Everything in "meta" is the sender's word. A received file is offered for download only: its
// blob is always application/octet-stream (a blob: URL has this page's origin, so a text/html
// blob opened in a tab would run the sender's script with the receiver's session), and its
// name goes through sanitizeFileName before it reaches the page or the download attribute.

import { format, t } from "./i18n.js";
import { displayName } from "./protocol.js";
import { Sha256, sha256Hex } from "./sha256.js";

/** @typedef {import("./call.js").Call} Call */
/** @typedef {import("./call.js").RemotePeer} RemotePeer */
/**
 * @typedef {"preparing" | "waiting" | "sending" | "receiving" | "verifying" | "done" |
 *           "failed" | "cancelled"} TransferStatus
 * @typedef {{id: string, direction: "in" | "out", name: string, size: number, mime: string,
 *            peerId: string, peerName: string, progress: number, status: TransferStatus,
 *            message: string, sha256: string, url: string | null,
 *            cancel: () => void}} Transfer
 */

const CHUNK_BYTES = 16 * 1024;
const READ_SLICE_BYTES = 256 * 1024;
const BUFFER_HIGH_BYTES = 1024 * 1024;
const BUFFER_LOW_BYTES = 256 * 1024;
const HASH_SLICE_BYTES = 1024 * 1024;
/** The largest file a receiver accepts: it must fit in the receiver's memory. */
const MAX_FILE_BYTES = 1024 * 1024 * 1024;
/** The type of every received file's blob, whatever the sender said: never rendered, only saved. */
export const RECEIVED_FILE_TYPE = "application/octet-stream";
/** The longest file name offered for saving, in characters (code points). */
const MAX_NAME_CHARS = 120;
/** An extension longer than this is not kept whole when a long name is shortened. */
const MAX_KEPT_EXTENSION_CHARS = 16;
const FALLBACK_NAME = "file";
// C0 and C1 controls, and the invisible characters that reorder or hide text (bidi embeddings,
// overrides and isolates, marks, zero-width characters, the BOM): "evil\u202Etxt.html" would
// otherwise show as "evillmth.txt".
const INVISIBLE_CHARACTERS =
  /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;
// Characters Windows refuses in names; they are replaced rather than dropped to keep words apart.
const RESERVED_CHARACTERS = /[<>:"|?*]/g;
// Device names Windows reserves whatever the extension ("nul.txt" and "nul .txt" are the
// device too).
const RESERVED_NAMES = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])\s*(\.|$)/i;

/**
 * A name that is safe to show and to save a received file under, whatever the sender sent:
 * the last path component only, without control or bidi characters, leading or trailing dots
 * and spaces, characters or device names Windows reserves, at most 120 characters long
 * (keeping the extension), and "file" when nothing is left.
 * @param {unknown} raw
 * @returns {string}
 */
export function sanitizeFileName(raw) {
  if (typeof raw !== "string") return FALLBACK_NAME;
  let name = raw.normalize("NFC").replace(INVISIBLE_CHARACTERS, "");
  name = name.split(/[\\/]/).pop() || "";
  name = name.replace(RESERVED_CHARACTERS, "_");
  // Leading dots hide a file (or make "." and ".."); trailing dots and spaces Windows drops.
  name = name.replace(/^[\s.]+/, "").replace(/[\s.]+$/, "");
  if (!name) return FALLBACK_NAME;
  if (RESERVED_NAMES.test(name)) name = `_${name}`;
  return shortenName(name);
}

/**
 * @param {string} name
 * @returns {string}
 */
function shortenName(name) {
  const chars = Array.from(name);
  if (chars.length <= MAX_NAME_CHARS) return name;
  const dot = name.lastIndexOf(".");
  const extension = dot > 0 ? Array.from(name.slice(dot)) : [];
  if (extension.length > 1 && extension.length <= MAX_KEPT_EXTENSION_CHARS) {
    const stem = Array.from(name.slice(0, dot)).slice(0, MAX_NAME_CHARS - extension.length);
    return stem.join("") + extension.join("");
  }
  return chars.slice(0, MAX_NAME_CHARS).join("");
}

/** @returns {string} */
function newId() {
  const bytes = new Uint8Array(9);
  crypto.getRandomValues(bytes);
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_");
}

/**
 * @param {Blob} file
 * @param {(done: number) => void} onProgress
 * @param {() => boolean} cancelled
 * @returns {Promise<string | null>} hex digest, null when cancelled
 */
async function hashFile(file, onProgress, cancelled) {
  const hash = new Sha256();
  for (let offset = 0; offset < file.size; offset += HASH_SLICE_BYTES) {
    if (cancelled()) return null;
    const slice = await file.slice(offset, offset + HASH_SLICE_BYTES).arrayBuffer();
    hash.update(new Uint8Array(slice));
    onProgress(Math.min(file.size, offset + HASH_SLICE_BYTES));
  }
  return hash.hexDigest();
}

/**
 * Events: "change" (detail: Transfer) whenever a transfer starts, progresses or ends.
 */
export class FileTransfers extends EventTarget {
  /** @param {Call} call */
  constructor(call) {
    super();
    this.call = call;
    /** @type {Map<string, Transfer>} */
    this.transfers = new Map();
    call.addEventListener("datachannel", (event) => {
      const { peer, channel } = /** @type {CustomEvent} */ (event).detail;
      if (typeof channel.label === "string" && channel.label.startsWith("file:")) {
        this.receive(peer, channel);
      } else {
        channel.close();
      }
    });
  }

  /**
   * Whether a file can go to this peer now: its connection has negotiated a data transport.
   * @param {RemotePeer} peer
   */
  canSendTo(peer) {
    // In an SFU call a data-only connection is opened for the file (call.dataConnection).
    if (this.call.mode === "sfu") return true;
    return peer.hasConnection && Boolean(peer.pc.sctp) && peer.pc.connectionState !== "closed";
  }

  /**
   * Send a file to one peer (by id) or to everyone ("").
   * @param {File} file
   * @param {string} to
   * @returns {string} a problem to show, or ""
   */
  send(file, to) {
    const targets = [...this.call.peers.values()].filter((peer) => !to || peer.id === to);
    if (targets.length === 0) return to ? t("That person has left.") : t("Nobody else is here yet.");
    if (file.size > MAX_FILE_BYTES) return t("Files over 1 GB cannot be sent.");
    const ready = targets.filter((peer) => this.canSendTo(peer));
    if (ready.length === 0) return t("The connection is not ready yet; try again in a moment.");
    const groupId = newId();
    /** @type {Transfer[]} */
    const outgoing = ready.map((peer, index) => {
      /** @type {Transfer} */
      const transfer = {
        id: `${groupId}-${index}`,
        direction: "out",
        name: file.name || "file",
        size: file.size,
        mime: file.type || "application/octet-stream",
        peerId: peer.id,
        peerName: displayName(peer.user),
        progress: 0,
        status: "preparing",
        message: "",
        sha256: "",
        url: null,
        cancel: () => this.finish(transfer, "cancelled", t("Cancelled.")),
      };
      this.transfers.set(transfer.id, transfer);
      this.changed(transfer);
      return transfer;
    });
    const stillWanted = () => outgoing.some((transfer) => transfer.status === "preparing");
    hashFile(
      file,
      (done) => {
        const percent = Math.round((done / Math.max(1, file.size)) * 100);
        for (const transfer of outgoing) {
          if (transfer.status !== "preparing") continue;
          transfer.message = format(t("Preparing (%(percent)s)"), { percent: `${percent}%` });
          this.changed(transfer);
        }
      },
      () => !stillWanted(),
    ).then(
      (sha256) => {
        if (sha256 === null) return;
        ready.forEach((peer, index) => {
          const transfer = outgoing[index];
          if (transfer.status !== "preparing") return;
          transfer.sha256 = sha256;
          this.stream(file, peer, transfer).catch((error) => {
            this.finish(transfer, "failed", format(t("Sending failed: %(error)s"), { error: error.message || error }));
          });
        });
      },
      (error) => {
        for (const transfer of outgoing) {
          const reason = error.message || error;
          this.finish(transfer, "failed", format(t("The file could not be read: %(error)s"), { error: reason }));
        }
      },
    );
    return "";
  }

  /**
   * @param {File} file
   * @param {RemotePeer} peer
   * @param {Transfer} transfer
   */
  async stream(file, peer, transfer) {
    const channel = this.call.dataConnection(peer).createDataChannel(`file:${transfer.id}`, { ordered: true });
    channel.binaryType = "arraybuffer";
    channel.bufferedAmountLowThreshold = BUFFER_LOW_BYTES;
    transfer.status = "waiting";
    transfer.cancel = () => {
      this.sendControl(channel, { kind: "cancel" });
      channel.close();
      this.finish(transfer, "cancelled", t("Cancelled."));
    };
    this.changed(transfer);
    channel.addEventListener("message", (event) => {
      if (typeof event.data !== "string") return;
      const message = parseControl(event.data);
      if (message?.kind === "verified") {
        if (message.ok) this.finish(transfer, "done", t("Delivered and checked."));
        else this.finish(transfer, "failed", format(t("%(name)s received a damaged copy."), { name: transfer.peerName }));
        channel.close();
      } else if (message?.kind === "cancel") {
        this.finish(transfer, "cancelled", format(t("%(name)s declined or cancelled."), { name: transfer.peerName }));
        channel.close();
      }
    });
    channel.addEventListener("close", () => {
      if (!isFinal(transfer.status)) {
        this.finish(transfer, "failed", format(t("The connection to %(name)s closed."), { name: transfer.peerName }));
      }
    });
    await waitForOpen(channel);
    if (isFinal(transfer.status)) return;
    this.sendControl(channel, {
      kind: "meta",
      id: transfer.id,
      name: transfer.name,
      size: transfer.size,
      mime: transfer.mime,
      sha256: transfer.sha256,
    });
    transfer.status = "sending";
    this.changed(transfer);
    let sent = 0;
    let lastReport = 0;
    for (let offset = 0; offset < file.size; offset += READ_SLICE_BYTES) {
      const slice = new Uint8Array(
        await file.slice(offset, offset + READ_SLICE_BYTES).arrayBuffer(),
      );
      for (let start = 0; start < slice.length; start += CHUNK_BYTES) {
        if (isFinal(transfer.status) || channel.readyState !== "open") return;
        if (channel.bufferedAmount > BUFFER_HIGH_BYTES) await waitForLow(channel);
        if (isFinal(transfer.status) || channel.readyState !== "open") return;
        const chunk = slice.subarray(start, start + CHUNK_BYTES);
        channel.send(chunk);
        sent += chunk.length;
        if (sent - lastReport >= READ_SLICE_BYTES || sent === file.size) {
          lastReport = sent;
          this.changed(transfer, sent / Math.max(1, file.size));
        }
      }
    }
    this.changed(transfer, 1);
    this.sendControl(channel, { kind: "end" });
    transfer.status = "verifying";
    this.changed(transfer);
  }

  /**
   * @param {RemotePeer} peer
   * @param {RTCDataChannel} channel
   */
  receive(peer, channel) {
    channel.binaryType = "arraybuffer";
    /** @type {Transfer | null} */
    let transfer = null;
    /** @type {ArrayBuffer[]} */
    let chunks = [];
    let received = 0;
    let lastReport = 0;
    channel.addEventListener("message", (event) => {
      if (typeof event.data === "string") {
        const message = parseControl(event.data);
        if (!message) return;
        if (message.kind === "meta" && !transfer) {
          transfer = this.acceptMeta(peer, channel, message);
          if (transfer && transfer.status !== "receiving") channel.close();
        } else if (message.kind === "end" && transfer && transfer.status === "receiving") {
          const current = transfer;
          const parts = chunks;
          chunks = [];
          this.verify(current, parts, received, channel);
        } else if (message.kind === "cancel" && transfer) {
          chunks = [];
          this.finish(transfer, "cancelled", format(t("%(name)s cancelled."), { name: transfer.peerName }));
          channel.close();
        }
        return;
      }
      if (!transfer || transfer.status !== "receiving") return;
      const data = /** @type {ArrayBuffer} */ (event.data);
      received += data.byteLength;
      if (received > transfer.size) {
        chunks = [];
        this.sendControl(channel, { kind: "cancel" });
        channel.close();
        this.finish(transfer, "failed", t("More data arrived than announced; discarded."));
        return;
      }
      chunks.push(data);
      if (received - lastReport >= READ_SLICE_BYTES || received === transfer.size) {
        lastReport = received;
        this.changed(transfer, received / Math.max(1, transfer.size));
      }
    });
    channel.addEventListener("close", () => {
      chunks = [];
      if (transfer && !isFinal(transfer.status) && transfer.status !== "verifying") {
        this.finish(transfer, "failed", format(t("The connection to %(name)s closed."), { name: transfer.peerName }));
      }
    });
  }

  /**
   * @param {RemotePeer} peer
   * @param {RTCDataChannel} channel
   * @param {any} meta
   * @returns {Transfer | null}
   */
  acceptMeta(peer, channel, meta) {
    const valid =
      typeof meta.name === "string" &&
      Number.isSafeInteger(meta.size) &&
      meta.size >= 0 &&
      typeof meta.sha256 === "string" &&
      /^[0-9a-f]{64}$/.test(meta.sha256);
    if (!valid) {
      this.sendControl(channel, { kind: "cancel" });
      return null;
    }
    /** @type {Transfer} */
    const transfer = {
      id: `in-${newId()}`,
      direction: "in",
      name: sanitizeFileName(meta.name),
      size: meta.size,
      // What the sender claims, kept for information only: the blob never takes this type.
      mime: typeof meta.mime === "string" ? meta.mime.slice(0, 100) : "",
      peerId: peer.id,
      peerName: displayName(peer.user),
      progress: 0,
      status: "receiving",
      message: "",
      sha256: meta.sha256,
      url: null,
      cancel: () => {
        this.sendControl(channel, { kind: "cancel" });
        channel.close();
        this.finish(transfer, "cancelled", t("Cancelled."));
      },
    };
    this.transfers.set(transfer.id, transfer);
    if (meta.size > MAX_FILE_BYTES) {
      this.sendControl(channel, { kind: "cancel" });
      this.finish(transfer, "failed", t("Refused: files over 1 GB cannot be received."));
      return transfer;
    }
    this.changed(transfer);
    return transfer;
  }

  /**
   * @param {Transfer} transfer
   * @param {ArrayBuffer[]} parts
   * @param {number} received
   * @param {RTCDataChannel} channel
   */
  async verify(transfer, parts, received, channel) {
    transfer.status = "verifying";
    this.changed(transfer, 1);
    if (received !== transfer.size) {
      this.sendControl(channel, { kind: "verified", ok: false });
      channel.close();
      this.finish(transfer, "failed", t("The file arrived incomplete; discarded."));
      return;
    }
    try {
      const blob = new Blob(parts, { type: RECEIVED_FILE_TYPE });
      const actual = await sha256Hex(await blob.arrayBuffer());
      if (actual !== transfer.sha256) {
        this.sendControl(channel, { kind: "verified", ok: false });
        this.finish(transfer, "failed", t("The file arrived damaged (SHA-256 mismatch); discarded."));
      } else {
        transfer.url = URL.createObjectURL(blob);
        this.sendControl(channel, { kind: "verified", ok: true });
        this.finish(transfer, "done", t("Received and checked (SHA-256)."));
      }
    } catch (error) {
      this.finish(transfer, "failed", format(t("The file could not be checked: %(error)s"), { error: String(error) }));
    }
    channel.close();
  }

  /**
   * @param {RTCDataChannel} channel
   * @param {object} message
   */
  sendControl(channel, message) {
    if (channel.readyState !== "open") return;
    try {
      channel.send(JSON.stringify(message));
    } catch (error) {
      console.warn("files: control message lost", error);
    }
  }

  /**
   * @param {Transfer} transfer
   * @param {TransferStatus} status
   * @param {string} message
   */
  finish(transfer, status, message) {
    if (isFinal(transfer.status)) return;
    transfer.status = status;
    transfer.message = message;
    if (status === "done") transfer.progress = 1;
    this.changed(transfer);
  }

  /**
   * @param {Transfer} transfer
   * @param {number} [progress]
   */
  changed(transfer, progress) {
    if (typeof progress === "number") transfer.progress = Math.max(0, Math.min(1, progress));
    this.dispatchEvent(new CustomEvent("change", { detail: transfer }));
  }

  /** Cancel everything in flight (leaving the call). */
  cancelAll() {
    for (const transfer of this.transfers.values()) {
      if (!isFinal(transfer.status)) transfer.cancel();
    }
  }
}

/** @param {TransferStatus} status */
function isFinal(status) {
  return status === "done" || status === "failed" || status === "cancelled";
}

/**
 * @param {string} text
 * @returns {any}
 */
function parseControl(text) {
  try {
    const value = JSON.parse(text);
    return value && typeof value === "object" && typeof value.kind === "string" ? value : null;
  } catch {
    return null;
  }
}

/**
 * @param {RTCDataChannel} channel
 * @returns {Promise<void>}
 */
function waitForOpen(channel) {
  if (channel.readyState === "open") return Promise.resolve();
  return new Promise((resolve, reject) => {
    channel.addEventListener("open", () => resolve(), { once: true });
    channel.addEventListener("close", () => reject(new Error("the channel closed")), {
      once: true,
    });
  });
}

/**
 * @param {RTCDataChannel} channel
 * @returns {Promise<void>}
 */
function waitForLow(channel) {
  return new Promise((resolve) => {
    const done = () => {
      channel.removeEventListener("bufferedamountlow", done);
      channel.removeEventListener("close", done);
      resolve();
    };
    channel.addEventListener("bufferedamountlow", done);
    channel.addEventListener("close", done);
  });
}
