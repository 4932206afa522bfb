#!/usr/bin/env node
// A call through a real TURN server (coturn), Chromium forced to relay only
// (iceTransportPolicy "relay"), with the time-limited credentials the SFU
// hands out in its 201's Link rel="ice-server" headers. turn_relay.sh starts
// coturn and the SFU; on its own this needs both running.
//
//   node tests/e2e/chromium_turn.mjs --url http://127.0.0.1:PORT [--relay-protocol udp|tcp]
//
// Checks: a probe WHIP POST carries a TURN Link with username and
// credential; publisher and viewer, both relay-only with those credentials,
// connect; each selected pair's local candidate is a relay candidate reached
// over --relay-protocol (udp, or tcp for a ?transport=tcp TURN URL); video
// decodes at >= --min-ratio of the encoded rate; DELETE 200.

import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Checks, COMMON_OPTIONS, bothConnected, deleteSessions, measureRates, randomRoom,
         whipWhep, withBrowser } from './chromium_lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));

function options() {
  const { values } = parseArgs({
    options: { ...COMMON_OPTIONS, 'relay-protocol': { type: 'string', default: 'udp' } },
  });
  if (!values.url) {
    console.error('usage: chromium_turn.mjs --url http://127.0.0.1:PORT');
    process.exit(2);
  }
  values.url = values.url.replace(/\/+$/, '');
  values.room ??= randomRoom('turn');
  return values;
}

// RFC 8288 link-value: <uri>; rel="ice-server"; username="..."; credential="..."
function parseIceLinks(header) {
  const servers = [];
  for (const part of (header || '').split(/,\s*(?=<)/)) {
    const uri = /^<([^>]*)>/.exec(part);
    if (!uri || !/rel="ice-server"/.test(part)) continue;
    const param = (k) => (new RegExp(`${k}="((?:[^"\\\\]|\\\\.)*)"`).exec(part) || [])[1];
    const s = { urls: uri[1] };
    if (param('username') !== undefined) s.username = param('username');
    if (param('credential') !== undefined) s.credential = param('credential');
    servers.push(s);
  }
  return servers;
}

// The credentials come from the SFU itself: a probe publish, then DELETE.
async function iceServersFromSfu(o, checks) {
  const offer = readFileSync(join(here, '..', 'data', 'sdp', 'chromium156-whip-publish-offer.sdp'));
  const r = await fetch(`${o.url}/whip/${encodeURIComponent(o.room)}-probe`, {
    method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: offer });
  const servers = parseIceLinks(r.headers.get('link'));
  const loc = r.headers.get('location');
  if (loc) await fetch(new URL(loc, o.url), { method: 'DELETE' });
  const turn = servers.filter((s) => s.urls.startsWith('turn:') && s.username && s.credential);
  checks.check('201 carries a TURN Link with credentials', r.status === 201 && turn.length > 0,
    `status ${r.status}, ${JSON.stringify(servers)}`);
  return turn;
}

async function run(o, checks, { pub, view }) {
  const iceServers = await iceServersFromSfu(o, checks);
  if (iceServers.length === 0) return;
  const rtcConfig = { iceServers, iceTransportPolicy: 'relay' };
  const r = await whipWhep(o, pub, view, checks, { rtcConfig }, { rtcConfig });
  try {
    if (checks.failed > 0 || r.sessions.length < 2) return;
    if (!await bothConnected(o, pub, view, checks)) return;
    const { p2, v2 } = await measureRates(o, pub, view, checks);
    for (const [who, s] of [['publisher', p2], ['viewer', v2]]) {
      const p = s.pair || { local: {}, remote: {} };
      checks.check(`${who} sends through the TURN relay over ${o['relay-protocol'].toUpperCase()}`,
        p.local.type === 'relay' && p.local.relayProtocol === o['relay-protocol'],
        `local ${p.local.type} (to TURN over ${p.local.relayProtocol}) ${p.local.address}:${p.local.port} `
        + `-> remote ${p.remote.type} ${p.remote.address}:${p.remote.port}`);
    }
  } finally {
    await deleteSessions(r.sessions, checks);
  }
}

const o = options();
const checks = new Checks();
console.log(`INFO room ${o.room}, ${o.url}`);
await withBrowser(o, checks, (pages) => run(o, checks, pages));
console.log(`${checks.passed} passed, ${checks.failed} failed`);
process.exit(checks.failed === 0 ? 0 : 1);
