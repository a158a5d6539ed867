// Sending files: a recipient picker and a file input (choosing a file sends it at once, there
// is no separate send button), and a tray of transfers with progress, cancel and downloads.

import { format, t } from "../i18n.js";
import { displayName } from "../protocol.js";
import { $, el } from "./dom.js";

/** @typedef {import("../files.js").Transfer} Transfer */
/** @typedef {import("../files.js").FileTransfers} FileTransfers */
/** @typedef {import("../call.js").RemotePeer} RemotePeer */

/**
 * @param {number} bytes
 * @returns {string}
 */
function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  if (bytes < 1024 * 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  return `${(bytes / 1024 / 1024 / 1024).toFixed(2)} GB`;
}

/**
 * A transfer's status in words.
 * @param {import("../files.js").TransferStatus} status
 * @returns {string}
 */
function statusText(status) {
  const texts = {
    preparing: t("Preparing…"),
    waiting: t("Waiting for the connection…"),
    sending: t("Sending…"),
    receiving: t("Receiving…"),
    verifying: t("Checking…"),
    done: t("Done"),
    failed: t("Failed"),
    cancelled: t("Cancelled"),
  };
  return texts[status];
}

export class FilesPanel {
  /**
   * @param {{files: FileTransfers, onProblem: (text: string) => void,
   *          onReceived: (transfer: Transfer) => void}} options
   */
  constructor({ files, onProblem, onReceived }) {
    this.files = files;
    this.onReceived = onReceived;
    this.input = /** @type {HTMLInputElement} */ ($('input[type=file][name="file"]'));
    this.select = /** @type {HTMLSelectElement} */ ($('select[name="file-to"]'));
    this.tray = /** @type {HTMLElement} */ ($("#transfers"));
    this.list = /** @type {HTMLElement} */ ($("#transfer-list"));
    /** @type {Map<string, HTMLElement>} */
    this.rows = new Map();
    this.input.addEventListener("change", () => {
      const chosen = this.input.files ? [...this.input.files] : [];
      for (const file of chosen) {
        const problem = this.files.send(file, this.select.value);
        if (problem) onProblem(problem);
      }
      // Clearing lets the same file be chosen again later.
      this.input.value = "";
    });
    files.addEventListener("change", (event) => {
      this.render(/** @type {CustomEvent<Transfer>} */ (event).detail);
    });
    $('[data-action="clear-transfers"]').addEventListener("click", () => this.clearFinished());
  }

  /**
   * Keep the recipient list equal to the people in the call.
   * @param {RemotePeer[]} peers
   */
  setRecipients(peers) {
    const chosen = this.select.value;
    const options = [el("option", { value: "", text: t("Everyone") })];
    for (const peer of peers) {
      options.push(el("option", { value: peer.id, text: displayName(peer.user) }));
    }
    this.select.replaceChildren(...options);
    this.select.value = peers.some((peer) => peer.id === chosen) ? chosen : "";
  }

  /** @param {Transfer} transfer */
  render(transfer) {
    let row = this.rows.get(transfer.id);
    if (!row) {
      row = this.buildRow(transfer);
      this.rows.set(transfer.id, row);
      this.list.prepend(row);
    }
    this.tray.hidden = false;
    row.dataset.progress = String(Math.round(transfer.progress * 1000) / 1000);
    row.dataset.status = transfer.status;
    const bar = /** @type {HTMLProgressElement} */ (row.querySelector("progress"));
    bar.value = transfer.progress;
    const status = /** @type {HTMLElement} */ (row.querySelector(".transfer-status"));
    const percent = Math.round(transfer.progress * 100);
    const active = transfer.status === "sending" || transfer.status === "receiving";
    status.textContent =
      transfer.message && !active
        ? transfer.message
        : `${statusText(transfer.status)}${active ? ` ${percent}%` : ""}`;
    const cancel = row.querySelector('[data-action="cancel-transfer"]');
    const final = ["done", "failed", "cancelled"].includes(transfer.status);
    if (final && cancel) cancel.remove();
    if (transfer.status === "done" && transfer.direction === "in" && transfer.url) {
      if (!row.querySelector("a[download]")) {
        // A download link only, with no target: the file is saved, never opened in a tab. Its
        // blob is application/octet-stream and its name already sanitised (files.js), so even
        // "open in new tab" saves it instead of rendering the sender's bytes in our origin.
        const link = el("a", {
          class: "button button--primary button--small",
          href: transfer.url,
          download: transfer.name,
          "data-file-sha256": transfer.sha256,
          text: t("Save"),
          title: `SHA-256 ${transfer.sha256}`,
        });
        row.querySelector(".transfer-actions")?.append(link);
        this.onReceived(transfer);
      }
    }
  }

  /**
   * @param {Transfer} transfer
   * @returns {HTMLElement}
   */
  buildRow(transfer) {
    const direction =
      transfer.direction === "out"
        ? format(t("To %(name)s"), { name: transfer.peerName })
        : format(t("From %(name)s"), { name: transfer.peerName });
    const cancel = el("button", {
      class: "button button--ghost button--small",
      type: "button",
      "data-action": "cancel-transfer",
      text: t("Cancel"),
    });
    cancel.addEventListener("click", () => transfer.cancel());
    return el(
      "li",
      {
        class: "transfer",
        "data-transfer-id": transfer.id,
        "data-direction": transfer.direction,
        "data-progress": "0",
      },
      [
        el("div", { class: "transfer-head" }, [
          el("span", { class: "transfer-name", text: transfer.name, title: transfer.name }),
          el("span", { class: "transfer-size", text: formatBytes(transfer.size) }),
        ]),
        el("div", { class: "transfer-peer", text: direction }),
        el("progress", { max: "1", value: "0", "aria-label": format(t("Progress of %(file)s"), { file: transfer.name }) }),
        el("div", { class: "transfer-foot" }, [
          el("span", { class: "transfer-status" }),
          el("span", { class: "transfer-actions" }, [cancel]),
        ]),
      ],
    );
  }

  clearFinished() {
    for (const [id, row] of this.rows) {
      if (["done", "failed", "cancelled"].includes(row.dataset.status || "")) {
        const link = row.querySelector("a[download]");
        if (link instanceof HTMLAnchorElement) URL.revokeObjectURL(link.href);
        row.remove();
        this.rows.delete(id);
      }
    }
    if (this.rows.size === 0) this.tray.hidden = true;
  }
}
