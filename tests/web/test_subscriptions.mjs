#!/usr/bin/env node
// The call page's subscriptions without a browser (web/js/subscriptions.js):
// who gets a picture in grid and speaker view, and the body it POSTs.
//
//   node tests/web/test_subscriptions.mjs   prints PASS/FAIL lines, "N passed, M failed"

import { shownVideo, subscriptionBody, MAX_VIDEO_TILES, MAX_STRIP_TILES }
  from '../../web/js/subscriptions.js';

let passed = 0, failed = 0;
const eq = (name, got, want) => {
  const ok = JSON.stringify(got) === JSON.stringify(want);
  console.log(`${ok ? 'PASS' : 'FAIL'} ${name}${ok ? '' : `: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`}`);
  if (ok) passed++; else failed++;
};

const ids = Array.from({ length: 30 }, (_, i) => `p${i}`);
const rows = [
  ['small room, grid: everyone', ['a', 'b', 'c'], '', 'grid', ['a', 'b', 'c']],
  ['the speaker comes first', ['a', 'b', 'c'], 'c', 'grid', ['c', 'a', 'b']],
  ['an unknown speaker changes nothing', ['a', 'b'], 'zz', 'grid', ['a', 'b']],
  ['large room, grid: the first nine', ids, '', 'grid', ids.slice(0, MAX_VIDEO_TILES)],
  ['large room, grid: a speaker beyond them moves in', ids, 'p20', 'grid',
    ['p20', ...ids.slice(0, MAX_VIDEO_TILES - 1)]],
  ['speaker view: the speaker and a strip', ids, 'p7', 'speaker',
    ['p7', ...ids.filter((i) => i !== 'p7').slice(0, MAX_STRIP_TILES)]],
  ['speaker view without a speaker: the first is big', ids, '', 'speaker', ids.slice(0, 1 + MAX_STRIP_TILES)],
  ['nobody', [], 'x', 'grid', []],
];
for (const [name, list, speaker, view, want] of rows) eq(name, shownVideo(list, speaker, view), want);

const heights = { a: 540, b: 100, c: 0 };
eq('sizes in device pixels, rounded up to 90, unknown left out',
  subscriptionBody(['a', 'b', 'c'], (id) => heights[id], 2),
  { video: [{ participant: 'a', maxHeight: 1080 }, { participant: 'b', maxHeight: 270 },
            { participant: 'c' }] });
eq('a bad dpr counts as 1', subscriptionBody(['b'], () => 100, 0), { video: [{ participant: 'b', maxHeight: 180 }] });
eq('huge tiles are capped at 8192', subscriptionBody(['a'], () => 1e6, 1), { video: [{ participant: 'a', maxHeight: 8192 }] });
eq('no tiles: no video', subscriptionBody([], () => 0), { video: [] });

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
