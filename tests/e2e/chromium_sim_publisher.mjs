#!/usr/bin/env node
// A headless Chromium WHIP publisher sending its fake camera as three
// simulcast encodings (rids q, h, f at scaleResolutionDownBy 4, 2, 1), for
// tests/e2e/cluster_relay.py: the cluster relays every layer to another node.
//
//   node tests/e2e/chromium_sim_publisher.mjs --url http://127.0.0.1:PORT \
//        --room ROOM [--watch-seconds 60]
//
// Prints "READY <participant id> <session URL>" once all three encodings
// produce frames (the top one only starts when Chromium's estimate allows),
// then "ENC <rid> <width>x<height>" per encoding, and keeps publishing until
// its stdin closes or --watch-seconds pass. Checks, one line each: WHIP 201
// with a=simulcast kept, connected, three encodings producing. Ends with
// "N passed, M failed".

import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { Checks, COMMON_OPTIONS, sleep, videoSection, withPage } from './chromium_lib.mjs';

const RIDS = ['q', 'h', 'f'];
const { values: o } = parseArgs({ options: { ...COMMON_OPTIONS,
  'watch-seconds': { type: 'string', default: '60' } } });
if (!o.url || !o.room) {
  console.error('usage: chromium_sim_publisher.mjs --url URL --room ROOM');
  process.exit(2);
}
o.url = o.url.replace(/\/+$/, '');
const checks = new Checks();
let stdinClosed = false;
createInterface({ input: process.stdin }).on('close', () => { stdinClosed = true; });

await withPage(o, checks, async (pub) => {
  const offer = await pub.evaluate((opts) => publish(opts), {
    video: { width: { ideal: 960 }, height: { ideal: 540 }, frameRate: { ideal: 20 } },
    // Chromium sends three encodings only from 960x540 up (two at 640x360).
    sendEncodings: RIDS.map((rid, i) => ({ rid, scaleResolutionDownBy: 2 ** (RIDS.length - 1 - i) })),
  });
  // The room's owner may be another node (307): the session is where the
  // request ended up.
  const whip = await pub.evaluate(async ([u, sdp]) => {
    const r = await fetch(u, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: sdp });
    const loc = r.headers.get('Location');
    return { status: r.status, body: await r.text(), location: loc ? new URL(loc, r.url).href : null,
             participant: r.headers.get('X-Participant-Id') };
  }, [`${o.url}/whip/${encodeURIComponent(o.room)}`, offer.sdp]);
  if (!checks.check('simulcast publisher: WHIP POST 201', whip.status === 201 && !!whip.participant,
    `status ${whip.status}${whip.status === 201 ? '' : ', ' + whip.body.trim().slice(0, 200)}`)) return;
  const sim = (videoSection(whip.body).match(/^a=simulcast:.*$/m) || ['no a=simulcast'])[0].trim();
  checks.check('simulcast publisher: the answer keeps a=simulcast:recv q;h;f', sim === 'a=simulcast:recv q;h;f', sim);
  await pub.evaluate((s) => applyAnswer(s), whip.body);
  const state = await pub.evaluate((t) => connected(t), 15000);
  if (!checks.check('simulcast publisher connected', state === 'connected', state)) return;
  const tw = Date.now();
  let producing = [];
  let last = null;
  for (let prev = null; Date.now() - tw < 25000;) {
    last = await pub.evaluate(() => stats());
    if (prev) {
      const was = new Map(prev.outbound.map((e) => [e.rid, e.framesEncoded]));
      producing = last.outbound.filter((e) => e.framesEncoded > (was.get(e.rid) ?? 0));
      if (producing.length === RIDS.length) break;
    }
    prev = last;
    await sleep(1000);
  }
  if (!checks.check('simulcast publisher: three encodings producing', producing.length === RIDS.length,
    `${producing.map((e) => `${e.rid} ${e.width}x${e.height}`).join(', ')} after ${((Date.now() - tw) / 1000).toFixed(1)} s`)) return;
  for (const e of producing) console.log(`ENC ${e.rid} ${e.width}x${e.height}`);
  console.log(`READY ${whip.participant} ${whip.location}`);
  const end = Date.now() + Number(o['watch-seconds']) * 1000;
  while (!stdinClosed && Date.now() < end) await sleep(100);
  const s = await pub.evaluate(() => stats());
  console.log('INFO encodings at the end: ' + s.outbound.map((e) =>
    `${e.rid} ${e.width}x${e.height} ${e.framesEncoded} frames${e.limit && e.limit !== 'none' ? ' (limited: ' + e.limit + ')' : ''}`).join(', '));
  await pub.evaluate((u) => fetch(u, { method: 'DELETE' }), whip.location).catch(() => {});
});
process.exit(checks.summary());
