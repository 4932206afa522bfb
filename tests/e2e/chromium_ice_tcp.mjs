#!/usr/bin/env node
// The Chromium side of ice_tcp.sh: publish over WHIP and watch over WHEP
// when UDP is blocked, so ICE must use the SFU's passive TCP candidates
// (RFC 6544). ice_tcp.sh runs this inside a network namespace whose
// outgoing UDP is dropped; on its own it only needs an SFU with
// media.ice_tcp=true reachable at --url.
//
//   node tests/e2e/chromium_ice_tcp.mjs --url http://10.x.y.1:PORT
//
// Checks, one line each, then "N passed, M failed"; exit 0 only if all pass:
//   WHIP/WHEP 201, both answers carry a `tcptype passive` candidate, both
//   connect, each page's selected candidate pair is tcp on both ends (the
//   remote end on the SFU's address, --sfu-address, default the --url
//   host), each page connected (ICE and DTLS) within --max-connect-ms of
//   its answer going in, the viewer's framesDecoded rises at >= --min-ratio
//   of the publisher's framesEncoded rate, DELETE 200. Then the same page
//   joins a room (POST /rooms/{room}/join, a room session): its answer has a
//   passive TCP candidate, it connects within --max-connect-ms, its
//   selected pair is TCP, DELETE 200.
//
// Options: --seconds 12, --warmup 4, --min-ratio 0.9, --connect-timeout 20,
// --max-connect-ms 1000, --room, --chromium.

import { parseArgs } from 'node:util';
import { Checks, COMMON_OPTIONS, bothConnected, deleteSessions, measureRates, randomRoom,
         whipWhep, withBrowser } from './chromium_lib.mjs';

function options() {
  const { values } = parseArgs({
    options: { ...COMMON_OPTIONS, 'sfu-address': { type: 'string' },
               'connect-timeout': { type: 'string', default: '20' },
               'max-connect-ms': { type: 'string', default: '1000' } },
  });
  if (!values.url) {
    console.error('usage: chromium_ice_tcp.mjs --url http://ADDRESS:PORT [--sfu-address ADDRESS]');
    process.exit(2);
  }
  values.url = values.url.replace(/\/+$/, '');
  values['sfu-address'] ??= new URL(values.url).hostname;
  values.room ??= randomRoom('icetcp');
  return values;
}

const candidates = (sdp) => (sdp.match(/^a=candidate:.*$/gm) || []).map((l) => l.trim());

function checkAnswer(name, sdp, checks) {
  const cands = [...new Set(candidates(sdp))];  // once per bundled m-line
  const passive = cands.filter((c) => / tcp /i.test(c) && /tcptype passive/.test(c));
  checks.check(`${name} answer has a tcptype passive candidate`, passive.length > 0,
    cands.join(' | ') || 'no candidates');
}

const describe = (e) => `${e.protocol} ${e.address}:${e.port} ${e.type}${e.tcpType ? ' ' + e.tcpType : ''}`;

async function checkTiming(o, who, page, checks) {
  const limit = Number(o['max-connect-ms']);
  const t = await page.evaluate(() => connectTiming());
  const ice = t.iceAt - t.answerAt, all = t.connectedAt - t.answerAt;
  console.log(`INFO ${who} over TCP: ICE connected ${ice.toFixed(0)} ms, `
    + `DTLS too ${all.toFixed(0)} ms after the answer`);
  checks.check(`${who} connected within ${limit} ms`, t.connectedAt > 0 && all <= limit,
    `${all.toFixed(0)} ms (ICE ${ice.toFixed(0)} ms)`);
}

function checkPair(o, who, p, checks) {
  checks.check(`${who} selected candidate pair is TCP`,
    !!p && p.local.protocol === 'tcp' && p.remote.protocol === 'tcp'
      && p.remote.address === o['sfu-address'],
    p ? `local ${describe(p.local)}, remote ${describe(p.remote)}, `
      + `bytes sent ${p.bytesSent} received ${p.bytesReceived}` : 'no selected pair');
}

// A room session (the call page's kind) over TCP too.
async function roomOverTcp(o, page, checks) {
  await page.evaluate(() => close());
  const offer = await page.evaluate((opts) => publish(opts), {});
  const url = `${o.url}/rooms/${encodeURIComponent(o.room + '-call')}/join?name=tcp`;
  const join = await page.evaluate(([u, s]) => post(u, s), [url, offer.sdp]);
  if (!checks.check('room join POST 201', join.status === 201 && !!join.location,
    `status ${join.status}` + (join.status === 201 ? '' : `, body: ${join.body.trim().slice(0, 200)}`))) return;
  try {
    checkAnswer('room join', join.body, checks);
    await page.evaluate((s) => applyAnswer(s), join.body);
    const st = await page.evaluate((t) => connected(t), Number(o['connect-timeout']) * 1000);
    if (!checks.check('room session connected', st === 'connected', `connectionState ${st}`)) return;
    await checkTiming(o, 'room session', page, checks);
    await new Promise((r) => setTimeout(r, 1500));   // a few packets on the pair
    checkPair(o, 'room session', (await page.evaluate(() => stats())).pair, checks);
  } finally {
    await deleteSessions([{ page, url: join.location, who: 'room session' }], checks);
  }
}

async function run(o, checks, { pub, view }) {
  const r = await whipWhep(o, pub, view, checks);
  try {
    if (r.whip?.status === 201) checkAnswer('WHIP', r.whip.body, checks);
    if (r.whep?.status === 201) checkAnswer('WHEP', r.whep.body, checks);
    if (checks.failed > 0 || r.sessions.length < 2) return;
    if (!await bothConnected(o, pub, view, checks)) return;
    for (const [who, page] of [['publisher', pub], ['viewer', view]])
      await checkTiming(o, who, page, checks);
    const { p2, v2 } = await measureRates(o, pub, view, checks);
    for (const [who, s] of [['publisher', p2], ['viewer', v2]]) checkPair(o, who, s.pair, checks);
  } finally {
    await deleteSessions(r.sessions, checks);
  }
  if (checks.failed === 0) await roomOverTcp(o, pub, checks);
}

async function main() {
  const o = options();
  const checks = new Checks();
  console.log(`INFO room ${o.room}, ${o.url}`);
  await withBrowser(o, checks, (pages) => run(o, checks, pages));
  process.exitCode = checks.summary();
}

main();
