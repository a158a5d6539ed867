// Link statistics and audio levels read from stats reports (a Map stands in for RTCStatsReport).

import assert from "node:assert/strict";
import { test } from "node:test";

import { emptyLinkStats, linkGrade, readAudioLevel, readLinkStats } from "../../static/js/stats.js";

/** @param {object[]} stats */
function report(stats) {
  return new Map(stats.map((stat, index) => [stat.id || `stat${index}`, stat]));
}

/** A report with one selected pair between the two candidate types, and inbound counters. */
function linkReport({ local = "host", remote = "srflx", rtt = 0.0424, lost = 0, received = 0 } = {}) {
  return report([
    { id: "T1", type: "transport", selectedCandidatePairId: "P1" },
    { id: "P1", type: "candidate-pair", localCandidateId: "L1", remoteCandidateId: "R1", currentRoundTripTime: rtt },
    { id: "L1", type: "local-candidate", candidateType: local },
    { id: "R1", type: "remote-candidate", candidateType: remote },
    { id: "I1", type: "inbound-rtp", kind: "audio", packetsLost: lost, packetsReceived: received },
  ]);
}

test("a pair of host and server-reflexive candidates is a direct path, its RTT in whole ms", () => {
  const { stats } = readLinkStats(linkReport(), emptyLinkStats(), null);
  assert.deepEqual(stats, { path: "direct", rttMs: 42, lossPercent: null, localType: "host", remoteType: "srflx" });
});

test("a relay candidate at either end makes the path relayed", () => {
  assert.equal(readLinkStats(linkReport({ local: "relay" }), emptyLinkStats(), null).stats.path, "relay");
  assert.equal(readLinkStats(linkReport({ remote: "relay" }), emptyLinkStats(), null).stats.path, "relay");
});

test("loss is the share of packets lost since the previous report, to a tenth of a percent", () => {
  const first = readLinkStats(linkReport({ lost: 10, received: 1000 }), emptyLinkStats(), null);
  assert.equal(first.stats.lossPercent, null, "one report says nothing about recent loss");
  const second = readLinkStats(linkReport({ lost: 13, received: 1097 }), first.stats, first.packets);
  assert.equal(second.stats.lossPercent, 3);
  const idle = readLinkStats(linkReport({ lost: 13, received: 1097 }), second.stats, second.packets);
  assert.equal(idle.stats.lossPercent, 0);
});

test("a report without a selected pair keeps the path already known", () => {
  const known = { ...emptyLinkStats(), path: /** @type {const} */ ("relay"), rttMs: 80 };
  const { stats } = readLinkStats(report([{ type: "inbound-rtp", packetsLost: 0, packetsReceived: 5 }]), known, null);
  assert.equal(stats.path, "relay");
  assert.equal(stats.rttMs, 80);
});

test("grades: good up to 150 ms and 1 % loss, fair up to 400 ms and 5 %, poor beyond", () => {
  const grade = (rttMs, lossPercent) => linkGrade({ ...emptyLinkStats(), rttMs, lossPercent });
  assert.equal(grade(null, null), "good");
  assert.equal(grade(150, 1), "good");
  assert.equal(grade(151, 0), "fair");
  assert.equal(grade(20, 1.1), "fair");
  assert.equal(grade(400, 5), "fair");
  assert.equal(grade(401, 0), "poor");
  assert.equal(grade(20, 5.1), "poor");
});

test("the audio level is the RMS over the interval between two reports", () => {
  const audio = (energy, duration) =>
    report([{ type: "inbound-rtp", kind: "audio", totalAudioEnergy: energy, totalSamplesDuration: duration }]);
  const first = readAudioLevel(audio(1, 10), null);
  assert.equal(first.level, 0, "a first report has no interval yet");
  // 0.0025 energy over 0.4 s: a mean square of 1/160, an RMS of about 0.079.
  const second = readAudioLevel(audio(1.0025, 10.4), first.energy);
  assert.ok(Math.abs(second.level - Math.sqrt(0.0025 / 0.4)) < 1e-9, String(second.level));
  assert.deepEqual(second.energy, { energy: 1.0025, duration: 10.4 });
  assert.equal(readAudioLevel(audio(1.0025, 10.4), second.energy).level, 0, "no new samples: silent");
});

test("video and reports without energy counters give no audio level", () => {
  const video = report([{ type: "inbound-rtp", kind: "video", totalAudioEnergy: 5, totalSamplesDuration: 5 }]);
  assert.deepEqual(readAudioLevel(video, { energy: 1, duration: 1 }), { level: 0, energy: { energy: 1, duration: 1 } });
});
