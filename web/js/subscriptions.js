// What the call page asks to receive (API.md "Subscriptions"): the video of
// the tiles it shows, each at the size it shows it. A large room does not
// fit on a screen, so the page shows at most MAX_VIDEO_TILES pictures: the
// active speaker first, then the others in the order they joined; everyone
// else is a tile with their initial. In speaker view the speaker's tile is
// big and the others a strip of small ones.
//
// Pure: the page passes the roster, the speaker and the tiles' sizes and
// POSTs what comes out (call.js subscribe()).

/** Pictures shown at most in the grid, and in speaker view's strip. */
export const MAX_VIDEO_TILES = 9;
export const MAX_STRIP_TILES = 5;

/**
 * Which participants get a picture: `ids` in roster order, `speaker` ('' or
 * an id). Grid: the speaker first, then the others, at most
 * MAX_VIDEO_TILES. Speaker view: the speaker (or the first) then
 * MAX_STRIP_TILES others.
 */
export function shownVideo(ids, speaker, view = 'grid') {
  const order = speaker && ids.includes(speaker) ? [speaker, ...ids.filter((i) => i !== speaker)] : [...ids];
  return order.slice(0, view === 'speaker' ? 1 + MAX_STRIP_TILES : MAX_VIDEO_TILES);
}

/**
 * The subscription body: {"video": [{participant, maxHeight}]} for the shown
 * participants, each tile's height in device pixels (`heightOf(id)` gives
 * CSS pixels; 0 or unknown: no size, the server's choice). Sizes are rounded
 * up to a step of 90 pixels so that a resize of a few pixels asks nothing new.
 */
export function subscriptionBody(shown, heightOf, dpr = 1) {
  const video = shown.map((participant) => {
    const css = heightOf(participant);
    const px = css > 0 ? Math.min(8192, Math.ceil((css * (dpr > 0 ? dpr : 1)) / 90) * 90) : 0;
    return px ? { participant, maxHeight: px } : { participant };
  });
  return { video };
}
