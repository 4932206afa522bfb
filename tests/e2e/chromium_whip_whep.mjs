#!/usr/bin/env node
// Headless Chromium publishes its fake camera+mic over WHIP and a second page
// watches over WHEP; the figures a user would notice come from getStats().
//
//   node tests/e2e/chromium_whip_whep.mjs --url http://127.0.0.1:PORT [--screenshot out.png]
//
// Checks, one line each, then "N passed, M failed"; exit 0 only if all pass:
//   WHIP and WHEP POST -> 201 with Location and X-Participant-Id (read
//   through CORS, as a page on another origin would), both connect, the
//   viewer's framesDecoded rate >= --min-ratio of the publisher's
//   framesEncoded rate over the measuring window, audio arrives, the
//   viewer's <video> shows a picture, both transports use an AES-GCM SRTP
//   cipher, and DELETE of both sessions -> 200.
//
// Options: --seconds 12, --warmup 4, --min-ratio 0.9, --room, --chromium.
// Needs: Debian chromium, `npm ci` here (PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1).

import { parseArgs } from 'node:util';
import { Checks, COMMON_OPTIONS, bothConnected, deleteSessions, measureRates, randomRoom,
         whipWhep, withBrowser } from './chromium_lib.mjs';

// Chromium reports the IANA profile name (RFC 7714 14.2). Chromium lists
// GCM after AES-CM; the SFU, as DTLS server, must pick GCM.
const GCM_CIPHERS = ['SRTP_AEAD_AES_256_GCM', 'SRTP_AEAD_AES_128_GCM'];

function options() {
  const { values } = parseArgs({ options: { ...COMMON_OPTIONS, screenshot: { type: 'string' } } });
  if (!values.url) {
    console.error('usage: chromium_whip_whep.mjs --url http://127.0.0.1:PORT [--screenshot FILE]');
    process.exit(2);
  }
  values.url = values.url.replace(/\/+$/, '');
  values.room ??= randomRoom('e2e');
  return values;
}

async function run(o, checks, { pub, view }) {
  const r = await whipWhep(o, pub, view, checks);
  try {
    if (r.whep?.status === 201) {
      checks.check('WHEP X-Participant-Id is the publisher\'s', r.whep.participant === r.whip.participant,
        `${r.whep.participant} (publisher ${r.whip.participant})`);
    }
    if (checks.failed > 0 || r.sessions.length < 2) return;
    if (!await bothConnected(o, pub, view, checks)) return;
    const { v1, p2, v2 } = await measureRates(o, pub, view, checks);
    checks.check('audio arrived', v2.audioPackets > v1.audioPackets && v1.audioPackets > 0,
      `packetsReceived ${v1.audioPackets} -> ${v2.audioPackets}`);
    checks.check('viewer shows a picture', v2.videoWidth > 0, `<video> videoWidth ${v2.videoWidth}`);
    for (const [name, s] of [['publisher', p2], ['viewer', v2]]) {
      checks.check(`${name} SRTP cipher AES-GCM`,
        s.ciphers.length > 0 && s.ciphers.every((c) => GCM_CIPHERS.includes(c)),
        `srtpCipher ${s.ciphers.join(',') || 'none'}`);
    }
    if (o.screenshot) {
      await view.screenshot({ path: o.screenshot });
      console.log(`INFO viewer screenshot: ${o.screenshot}`);
    }
  } finally {
    await deleteSessions(r.sessions, checks);
  }
}

const o = options();
const checks = new Checks();
console.log(`INFO room ${o.room}, ${o.url}`);
await withBrowser(o, checks, (pages) => run(o, checks, pages));
process.exitCode = checks.summary();
