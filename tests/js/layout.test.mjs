// Which views the stage features in each layout (static/js/ui/layout.js).

import assert from "node:assert/strict";
import { test } from "node:test";

import { companionCameras, planStage } from "../../static/js/ui/layout.js";

const quiet = { pinned: "", screens: [], selfPresenting: false, activeSpeaker: "", cameras: ["camera:b", "camera:c"] };

test("auto is a grid until someone presents, then the presentation is featured", () => {
  assert.deepEqual(planStage({ ...quiet, choice: "auto" }), { layout: "grid", featured: [] });
  assert.deepEqual(planStage({ ...quiet, choice: "auto", screens: ["screen:b"] }), {
    layout: "spotlight",
    featured: ["screen:b"],
  });
  assert.deepEqual(planStage({ ...quiet, choice: "auto", selfPresenting: true }), {
    layout: "spotlight",
    featured: ["presenting"],
  });
});

test("tiled stays a grid even while someone presents", () => {
  assert.deepEqual(planStage({ ...quiet, choice: "grid", screens: ["screen:b"] }), { layout: "grid", featured: [] });
});

test("speaker and sidebar feature the last loud speaker, else the first remote, else ourselves", () => {
  assert.deepEqual(planStage({ ...quiet, choice: "speaker", activeSpeaker: "camera:c" }), {
    layout: "speaker",
    featured: ["camera:c"],
  });
  assert.deepEqual(planStage({ ...quiet, choice: "sidebar" }), { layout: "sidebar", featured: ["camera:b"] });
  assert.deepEqual(planStage({ ...quiet, choice: "sidebar", activeSpeaker: "camera:gone" }).featured, ["camera:b"]);
  assert.deepEqual(planStage({ ...quiet, choice: "speaker", cameras: [] }).featured, ["self"]);
  assert.deepEqual(planStage({ ...quiet, choice: "speaker", screens: ["screen:c"] }).featured, ["screen:c"]);
});

test("a pin features only the pinned view, in a spotlight unless speaker or sidebar is chosen", () => {
  for (const choice of /** @type {const} */ (["auto", "grid"])) {
    assert.deepEqual(planStage({ ...quiet, choice, pinned: "camera:c", screens: ["screen:b"] }), {
      layout: "spotlight",
      featured: ["camera:c"],
    });
  }
  assert.deepEqual(planStage({ ...quiet, choice: "speaker", pinned: "self" }), { layout: "speaker", featured: ["self"] });
  assert.deepEqual(planStage({ ...quiet, choice: "sidebar", pinned: "camera:b" }).layout, "sidebar");
});

test("one person's second tab is not a second tile; the tab with its camera on is the one shown", () => {
  const cameras = [
    { key: "camera:a1", userId: "7", video: false },
    { key: "camera:b", userId: "8", video: true },
    { key: "camera:a2", userId: "7", video: true },
  ];
  assert.deepEqual([...companionCameras({ selfUserId: 1, cameras })], ["camera:a1"]);
  const bothOff = cameras.map((camera) => ({ ...camera, video: false }));
  assert.deepEqual([...companionCameras({ selfUserId: 1, cameras: bothOff })], ["camera:a2"]);
});

test("our own other tabs are all hidden, and peers of unknown users are never grouped", () => {
  const cameras = [
    { key: "camera:me", userId: "1", video: true },
    { key: "camera:x", userId: "", video: true },
    { key: "camera:y", userId: "", video: true },
  ];
  assert.deepEqual([...companionCameras({ selfUserId: 1, cameras })], ["camera:me"]);
  assert.deepEqual([...companionCameras({ selfUserId: null, cameras })], []);
});
