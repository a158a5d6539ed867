// Which views the stage features (big) and which go to the strip, for each layout choice.
// A pure decision, so it is tested without a browser (tests/js/layout.test.mjs); ui/stage.js
// applies it to the page.

/** @typedef {import("../preferences.js").LayoutChoice} LayoutChoice */

/**
 * What `#stage[data-layout]` says: `grid` (everyone the same size), `spotlight` (the automatic
 * layout featuring a presentation or a pinned view, the others in a side column), `speaker`
 * (one big view, the others in a strip below) or `sidebar` (one big view, the others in a side
 * column).
 * @typedef {"grid" | "spotlight" | "speaker" | "sidebar"} StageLayout
 */

/**
 * @param {{choice: LayoutChoice, pinned: string, screens: string[], selfPresenting: boolean,
 *          activeSpeaker: string, cameras: string[]}} input
 *   Views are named by key: `camera:<peer id>`, `screen:<peer id>`, `self`; `presenting` is
 *   the card shown while we present. `cameras` are the remote camera keys in arrival order.
 * @returns {{layout: StageLayout, featured: string[]}} the featured keys, in order
 */
export function planStage({ choice, pinned, screens, selfPresenting, activeSpeaker, cameras }) {
  const presentations = [...(selfPresenting ? ["presenting"] : []), ...screens];
  if (pinned) {
    // A pin always makes one view big; the grid and automatic layouts show it with a side column.
    const layout = choice === "speaker" || choice === "sidebar" ? choice : "spotlight";
    return { layout, featured: [pinned] };
  }
  if (choice === "grid") return { layout: "grid", featured: [] };
  if (choice === "auto") {
    if (presentations.length) return { layout: "spotlight", featured: presentations };
    return { layout: "grid", featured: [] };
  }
  // Speaker and sidebar: a presentation first, then whoever spoke last, then the first remote.
  if (presentations.length) return { layout: choice, featured: presentations };
  const speaker = activeSpeaker && cameras.includes(activeSpeaker) ? activeSpeaker : cameras[0];
  return { layout: choice, featured: [speaker || "self"] };
}

/**
 * Which remote camera views are a person's other tab or device, not shown as tiles of their own
 * (issue #15): the others see one person however many tabs that person has open. Of one
 * person's cameras the first with its video on is shown (else the first); the rest are hidden.
 * Our own other tabs are all hidden, as our self view stands for them (and their sound, which
 * would only echo us, is muted by the stage).
 * @param {{selfUserId: number | null | undefined,
 *          cameras: {key: string, userId: string, video: boolean}[]}} input
 *   `cameras` in arrival order; `userId` "" for a peer whose user is unknown (never grouped)
 * @returns {Set<string>} the keys of the camera views to hide
 */
export function companionCameras({ selfUserId, cameras }) {
  const self = selfUserId === null || selfUserId === undefined ? "" : String(selfUserId);
  /** @type {Map<string, {key: string, video: boolean}[]>} */
  const byUser = new Map();
  for (const camera of cameras) {
    if (!camera.userId) continue;
    const list = byUser.get(camera.userId) ?? [];
    list.push(camera);
    byUser.set(camera.userId, list);
  }
  const hidden = new Set();
  for (const [userId, list] of byUser) {
    if (userId === self) {
      for (const camera of list) hidden.add(camera.key);
      continue;
    }
    if (list.length < 2) continue;
    const shown = list.find((camera) => camera.video) ?? list[0];
    for (const camera of list) if (camera !== shown) hidden.add(camera.key);
  }
  return hidden;
}
