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
//   of the publisher's framesEncoded rate, DELETE 200.
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

async function run(o, checks, { pub, view }) {
  const r = await whipWhep(o, pub, view, checks);
  try {
    if (r.whip?.status === 201) checkAnswer('WHIP', r.whip.body, checks);
    if (r.whep?.status === 201) checkAnswer('WHEP', r.whep.body, checks);
    if (checks.failed > 0 || r.sessions.length < 2) return;
    if (!await bothConnected(o, pub, view, checks)) return;
    const limit = Number(o['max-connect-ms']);
    for (const [who, page] of [['publisher', pub], ['viewer', view]]) {
      const t = await page.evaluate(() => connectTiming());
      const ice = t.iceAt - t.answerAt, all = t.connectedAt - t.answerAt;
      console.log(`INFO ${who} over TCP: ICE connected ${ice.toFixed(0)} ms, `
        + `DTLS too ${all.toFixed(0)} ms after the answer`);
      checks.check(`${who} connected within ${limit} ms`, t.connectedAt > 0 && all <= limit,
        `${all.toFixed(0)} ms (ICE ${ice.toFixed(0)} ms)`);
    }
    const { p2, v2 } = await measureRates(o, pub, view, checks);
    for (const [who, s] of [['publisher', p2], ['viewer', v2]]) {
      const p = s.pair;
      checks.check(`${who} selected candidate pair is TCP`,
        !!p && p.local.protocol === 'tcp' && p.remote.protocol === 'tcp'
          && p.remote.address === o['sfu-address'],
        p ? `local ${describe(p.local)}, remote ${describe(p.remote)}, `
          + `bytes sent ${p.bytesSent} received ${p.bytesReceived}` : 'no selected pair');
    }
  } finally {
    await deleteSessions(r.sessions, checks);
  }
}

async function main() {
  const o = options();
  const checks = new Checks();
  console.log(`INFO room ${o.room}, ${o.url}`);
  await withBrowser(o, checks, (pages) => run(o, checks, pages));
  process.exitCode = checks.summary();
}

main();
