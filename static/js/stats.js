// Connection statistics: what a tile shows about the link to a peer (direct or relayed, round
// trip, packet loss, a quality grade) and how loud each peer is. The readers are pure functions
// of a stats report (anything with forEach and get, like RTCStatsReport or a Map), so they run in
// Node's tests; StatsReporter is the timer that feeds them from the live connections.

/**
 * @typedef {{path: "direct" | "relay" | null, rttMs: number | null, lossPercent: number | null,
 *            localType: string | null, remoteType: string | null}} LinkStats
 * @typedef {{lost: number, received: number}} PacketCounts
 * @typedef {{energy: number, duration: number}} AudioEnergy
 * @typedef {{forEach: (callback: (stat: any) => void) => void, get: (id: string) => any}} StatsReport
 * @typedef {"good" | "fair" | "poor"} LinkGrade
 */

/** @returns {LinkStats} what is known before the first report */
export function emptyLinkStats() {
  return { path: null, rttMs: null, lossPercent: null, localType: null, remoteType: null };
}

/**
 * Read a peer connection's report: the selected candidate pair gives the path and round trip,
 * the inbound RTP counters (compared with the previous report's) the loss since then.
 * @param {StatsReport} report
 * @param {LinkStats} previous the last result; kept where this report says nothing
 * @param {PacketCounts | null} lastPackets the counters of the previous report
 * @returns {{stats: LinkStats, packets: PacketCounts}}
 */
export function readLinkStats(report, previous, lastPackets) {
  const stats = { ...previous };
  /** @type {any} */
  let pair = null;
  let lost = 0;
  let received = 0;
  report.forEach((stat) => {
    if (stat.type === "transport" && stat.selectedCandidatePairId) {
      pair = report.get(stat.selectedCandidatePairId) || pair;
    }
    if (stat.type === "inbound-rtp") {
      lost += stat.packetsLost || 0;
      received += stat.packetsReceived || 0;
    }
  });
  if (pair) {
    const local = report.get(pair.localCandidateId);
    const remote = report.get(pair.remoteCandidateId);
    stats.localType = local ? local.candidateType : null;
    stats.remoteType = remote ? remote.candidateType : null;
    const relayed = stats.localType === "relay" || stats.remoteType === "relay";
    stats.path = relayed ? "relay" : "direct";
    stats.rttMs =
      typeof pair.currentRoundTripTime === "number" ? Math.round(pair.currentRoundTripTime * 1000) : null;
  }
  if (lastPackets) {
    const lostDelta = Math.max(0, lost - lastPackets.lost);
    const receivedDelta = Math.max(0, received - lastPackets.received);
    const total = lostDelta + receivedDelta;
    stats.lossPercent = total > 0 ? Math.round((lostDelta / total) * 1000) / 10 : 0;
  }
  return { stats, packets: { lost, received } };
}

/**
 * The grade a tile shows: poor above 400 ms or 5 % loss, fair above 150 ms or 1 %, else good.
 * @param {LinkStats} stats
 * @returns {LinkGrade}
 */
export function linkGrade({ rttMs, lossPercent }) {
  if ((rttMs !== null && rttMs > 400) || (lossPercent !== null && lossPercent > 5)) return "poor";
  if ((rttMs !== null && rttMs > 150) || (lossPercent !== null && lossPercent > 1)) return "fair";
  return "good";
}

/**
 * A peer's loudness since the last report, from its inbound-rtp audio energy: the RMS level
 * √(Δ totalAudioEnergy / Δ totalSamplesDuration). The level of the last packet alone
 * (getSynchronizationSources) misses short sounds: a poll lands on the silence between them
 * more often than not.
 * @param {StatsReport} report an audio receiver's report
 * @param {AudioEnergy | null} lastEnergy the counters of the previous report
 * @returns {{level: number, energy: AudioEnergy | null}} level 0–1, and the counters to keep
 */
export function readAudioLevel(report, lastEnergy) {
  let level = 0;
  let last = lastEnergy;
  report.forEach((stat) => {
    if (stat.type !== "inbound-rtp" || stat.kind !== "audio") return;
    const energy = stat.totalAudioEnergy;
    const duration = stat.totalSamplesDuration;
    if (typeof energy !== "number" || typeof duration !== "number") return;
    if (last && duration > last.duration) {
      level = Math.sqrt(Math.max(0, energy - last.energy) / (duration - last.duration));
    }
    last = { energy, duration };
  });
  return { level, energy: last };
}

const STATS_INTERVAL_MS = 2000;
const LEVELS_INTERVAL_MS = 400;

/**
 * @typedef {{connectionState: RTCPeerConnectionState, state: {audio: boolean},
 *            stats: LinkStats, lastPackets: PacketCounts | null, audioLevel: number,
 *            lastEnergy: AudioEnergy | null,
 *            linkStatsSource: () => RTCPeerConnection | RTCRtpReceiver | null,
 *            audioReceiver: () => RTCRtpReceiver | null}} MeasuredPeer
 * (the connection carrying the peer's media may be a mesh connection or the SFU's: the peer
 * says which, peer.js)
 */

/**
 * Polls the link stats of every connected peer every 2 s and their audio levels every 400 ms,
 * writing the results onto each peer and reporting through the callbacks.
 * @template {MeasuredPeer} P
 */
export class StatsReporter {
  /**
   * @param {{peers: () => P[], onStats: (peer: P) => void, onLevels: (peers: P[]) => void}} options
   */
  constructor({ peers, onStats, onLevels }) {
    this.peers = peers;
    this.onStats = onStats;
    this.onLevels = onLevels;
    this.pollingLevels = false;
    this.statsTimer = setInterval(() => this.pollStats(), STATS_INTERVAL_MS);
    this.levelsTimer = setInterval(() => this.pollLevels(), LEVELS_INTERVAL_MS);
  }

  stop() {
    clearInterval(this.statsTimer);
    clearInterval(this.levelsTimer);
  }

  async pollStats() {
    for (const peer of this.peers()) {
      const source = peer.linkStatsSource();
      if (!source || peer.connectionState !== "connected") continue;
      try {
        const report = await source.getStats();
        const { stats, packets } = readLinkStats(report, peer.stats, peer.lastPackets);
        Object.assign(peer.stats, stats);
        peer.lastPackets = packets;
        this.onStats(peer);
      } catch (error) {
        // A connection closed between the check and the call has no stats; nothing to show.
      }
    }
  }

  async pollLevels() {
    if (this.peers().length === 0 || this.pollingLevels) return;
    this.pollingLevels = true;
    try {
      for (const peer of this.peers()) {
        peer.audioLevel = peer.state.audio === false ? 0 : await this.readLevel(peer);
      }
    } finally {
      this.pollingLevels = false;
    }
    this.onLevels(this.peers());
  }

  /**
   * @param {P} peer
   * @returns {Promise<number>} root-mean-square audio level, 0–1
   */
  async readLevel(peer) {
    const receiver = peer.audioReceiver();
    if (!receiver || peer.connectionState !== "connected") return 0;
    try {
      const report = await receiver.getStats();
      const { level, energy } = readAudioLevel(report, peer.lastEnergy);
      peer.lastEnergy = energy;
      return level;
    } catch {
      // A connection closing between the check and the call has no stats: silent this time.
      return 0;
    }
  }
}
