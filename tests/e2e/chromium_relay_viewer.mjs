#!/usr/bin/env node
// A headless Chromium WHEP viewer of a publisher on another cluster node,
// for tests/e2e/cluster_relay.py: the node at --url serves it through a
// relay leg.
//
//   node tests/e2e/chromium_relay_viewer.mjs --url http://127.0.0.1:PORT \
//        --room ROOM --participant ID [--seconds 6] [--watch-seconds 0]
//
// Checks, one line each: WHEP POST 201 with the session on --url itself (no
// redirect), connected, framesDecoded at >= --min-fps over --seconds,
// audio arrives. Then, with --watch-seconds, prints "READY" and watches the
// viewer's DTLS transport for that long: when the relay leg is lost the
// node ends the session with a close_notify, and the line
// "INFO dtls <state> at <epoch ms>" says when Chromium saw it.
// Ends with "N passed, M failed".

import { parseArgs } from 'node:util';
import { Checks, COMMON_OPTIONS, sleep, withPage } from './chromium_lib.mjs';

const { values: o } = parseArgs({ options: { ...COMMON_OPTIONS, participant: { type: 'string' },
  'min-fps': { type: 'string', default: '12' }, 'watch-seconds': { type: 'string', default: '0' } } });
if (!o.url || !o.room || !o.participant) {
  console.error('usage: chromium_relay_viewer.mjs --url URL --room ROOM --participant ID');
  process.exit(2);
}
o.url = o.url.replace(/\/+$/, '');
const checks = new Checks();

await withPage(o, checks, async (view) => {
  const offer = await view.evaluate(() => viewerOffer({}));
  const url = `${o.url}/whep/${encodeURIComponent(o.room)}/${encodeURIComponent(o.participant)}`;
  const r = await view.evaluate(async ([u, sdp]) => {
    const res = await fetch(u, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: sdp });
    const loc = res.headers.get('Location');
    return { status: res.status, final: res.url, body: await res.text(),
             location: loc ? new URL(loc, res.url).href : null };
  }, [url, offer.sdp]);
  if (!checks.check('Chromium WHEP POST 201, served by this node',
    r.status === 201 && r.final === url && (r.location || '').startsWith(o.url + '/sessions/'),
    `status ${r.status}, final ${r.final}, session ${r.location}`)) return;
  await view.evaluate((s) => applyAnswer(s), r.body);
  const state = await view.evaluate((t) => connected(t), 15000);
  if (!checks.check('Chromium viewer connected', state === 'connected', state)) return;
  await sleep(2000);
  const s1 = await view.evaluate(() => stats());
  await sleep(Number(o.seconds) * 1000);
  const s2 = await view.evaluate(() => stats());
  const fps = ((s2.inbound?.framesDecoded || 0) - (s1.inbound?.framesDecoded || 0)) / ((s2.t - s1.t) / 1000);
  const i = s2.inbound || {};
  checks.check(`Chromium viewer decodes >= ${o['min-fps']} fps through the relay`, fps >= Number(o['min-fps']),
    `${fps.toFixed(1)} fps, ${i.width}x${i.height}, lost ${i.lost}, NACKs ${i.nacks}, freezes ${i.freezes}`);
  checks.check('Chromium viewer receives audio', (s2.audio?.packets || 0) > (s1.audio?.packets || 0),
    `${s2.audio?.packets || 0} packets`);
  const watch = Number(o['watch-seconds']);
  if (!watch) return;
  console.log('READY');
  const end = Date.now() + watch * 1000;
  let last = 'connected';
  while (Date.now() < end) {
    last = await view.evaluate(() => pc.getReceivers()[0].transport?.state || 'none');
    if (last === 'closed' || last === 'failed') break;
    await sleep(50);
  }
  console.log(`INFO dtls ${last} at ${Date.now()}`);
  checks.check('Chromium viewer told: its DTLS transport closed', last === 'closed' || last === 'failed', last);
});
process.exit(checks.summary());
