// The incremental SHA-256 the sender hashes files with, against node:crypto: every size where
// the padding changes shape (a message that leaves 55, 56 or 63 bytes in its last block needs
// one or two padding blocks), and a large input fed in uneven slices as files.js feeds it.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";

import { Sha256 } from "../../static/js/sha256.js";

/** @param {Uint8Array} data */
function expected(data) {
  return createHash("sha256").update(data).digest("hex");
}

/** @param {number} size */
function bytes(size) {
  const data = new Uint8Array(size);
  for (let index = 0; index < size; index++) data[index] = (index * 31 + 7) & 0xff;
  return data;
}

test("the empty input hashes to the well-known digest", () => {
  assert.equal(
    new Sha256().update(new Uint8Array(0)).hexDigest(),
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
});

test('"abc" hashes to the FIPS 180-4 example digest', () => {
  assert.equal(
    new Sha256().update(new TextEncoder().encode("abc")).hexDigest(),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
});

for (const size of [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129]) {
  test(`a ${size}-byte input in one update matches node:crypto`, () => {
    const data = bytes(size);
    assert.equal(new Sha256().update(data).hexDigest(), expected(data));
  });

  test(`a ${size}-byte input fed one byte at a time matches node:crypto`, () => {
    const data = bytes(size);
    const hash = new Sha256();
    for (let index = 0; index < size; index++) hash.update(data.subarray(index, index + 1));
    assert.equal(hash.hexDigest(), expected(data));
  });
}

test("a 3 MB input fed in uneven slices matches node:crypto", () => {
  const data = new Uint8Array(3 * 1024 * 1024 + 17);
  for (let index = 0; index < data.length; index++) data[index] = (index * 2654435761) >>> 24;
  const hash = new Sha256();
  // Slices that straddle block boundaries in every way: 1 MiB as files.js reads, then odd sizes.
  const sizes = [1024 * 1024, 1, 63, 65, 4096 + 3, 100_000];
  let offset = 0;
  for (let step = 0; offset < data.length; step++) {
    const size = sizes[step % sizes.length];
    hash.update(data.subarray(offset, offset + size));
    offset += size;
  }
  assert.equal(hash.hexDigest(), expected(data));
});

test("updating after the digest is refused instead of giving a wrong hash", () => {
  const hash = new Sha256();
  hash.update(bytes(10));
  hash.hexDigest();
  assert.throws(() => hash.update(bytes(1)), /update after digest/);
});
