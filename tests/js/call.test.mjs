// The call engine's pure rule: how much each camera copy may cost as the mesh grows.

import assert from "node:assert/strict";
import { test } from "node:test";

import { cameraEncodingFor } from "../../static/js/call.js";

test("each camera copy shrinks as the mesh grows", () => {
  assert.deepEqual(cameraEncodingFor(1), { maxBitrate: 1_500_000, scaleResolutionDownBy: 1 });
  assert.deepEqual(cameraEncodingFor(3), { maxBitrate: 800_000, scaleResolutionDownBy: 1.5 });
  assert.deepEqual(cameraEncodingFor(7), { maxBitrate: 450_000, scaleResolutionDownBy: 2 });
});
