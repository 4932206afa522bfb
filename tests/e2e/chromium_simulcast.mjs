#!/usr/bin/env node
// A simulcast offer through the SFU: a headless Chromium publisher adds its
// video with three rids (h, m at 1/2, l at 1/4) over WHIP. The SFU answers
// without a=simulcast and a=rid (docs/API.md), so by JSEP (RFC 8829 5.10)
// Chromium keeps the first encoding only; a Chromium viewer over WHEP must
// then decode that one stream at the publisher's rate. With the server's
// media.simulcast on, --expect-encodings 3 checks the other side: the answer
// has a=rid:<id> recv for each rid and a=simulcast:recv, and the publisher
// keeps and sends all three encodings.
//
//   node tests/e2e/chromium_simulcast.mjs --url http://127.0.0.1:PORT
//
// Checks, one line each, then "N passed, M failed"; exit 0 only if all pass:
//   the offer really is simulcast (a=simulcast + three a=rid), WHIP/WHEP
//   201, the answer has no a=simulcast, both connect, the publisher's sender
//   keeps one encoding and its outbound-rtp stats show one encoding
//   producing frames, the viewer's framesDecoded rate >= --min-ratio of the
//   publisher's framesEncoded rate, DELETE 200.
//
// Options: --rids h,m,l (first is full size, each next one half of the one
// before), --expect-encodings 1 (give 3 to see the encoding checks fail),
// --seconds 12, --warmup 4, --min-ratio 0.9, --room, --chromium.

import { parseArgs } from 'node:util';
import { Checks, COMMON_OPTIONS, bothConnected, deleteSessions, measureRates, randomRoom,
         whipWhep, withBrowser } from './chromium_lib.mjs';

function options() {
  const { values } = parseArgs({
    options: {
      ...COMMON_OPTIONS,
      rids: { type: 'string', default: 'h,m,l' },
      'expect-encodings': { type: 'string', default: '1' },
    },
  });
  if (!values.url) {
    console.error('usage: chromium_simulcast.mjs --url http://127.0.0.1:PORT [--rids h,m,l]');
    process.exit(2);
  }
  values.url = values.url.replace(/\/+$/, '');
  values.room ??= randomRoom('simulcast');
  return values;
}

const videoSection = (sdp) => sdp.split(/\r?\n(?=m=)/).find((m) => m.startsWith('m=video')) || '';

async function run(o, checks, { pub, view }) {
  const rids = o.rids.split(',');
  const sendEncodings = rids.map((rid, i) => (i === 0 ? { rid } : { rid, scaleResolutionDownBy: 2 ** i }));
  const r = await whipWhep(o, pub, view, checks, { sendEncodings });
  const offerVideo = videoSection(r.offer || '');
  const offeredRids = [...offerVideo.matchAll(/^a=rid:(\S+) send/gm)].map((m) => m[1]);
  checks.check('offer is simulcast', /^a=simulcast:send /m.test(offerVideo) && offeredRids.length === rids.length,
    `${(offerVideo.match(/^a=simulcast:.*$/m) || ['no a=simulcast'])[0].trim()}, a=rid ${offeredRids.join(',')}`);
  try {
    if (checks.failed > 0 || r.sessions.length < 2) return;
    const answerVideo = videoSection(r.whip.body);
    const want = Number(o['expect-encodings']);
    const scLines = (r.whip.body.match(/^a=(simulcast|rid):.*$/gm) || ['no a=simulcast or a=rid']).join(' | ');
    if (want > 1) {
      // media.simulcast on: every offered rid answered recv, in the offer's order.
      const answered = [...answerVideo.matchAll(/^a=rid:(\S+) recv/gm)].map((m) => m[1]);
      checks.check(`WHIP answer has a=simulcast:recv ${rids.join(';')}`,
        new RegExp(`^a=simulcast:recv ${rids.join(';')}\\r?$`, 'm').test(answerVideo)
          && answered.join(',') === rids.join(','), scLines);
    } else {
      checks.check('WHIP answer has no a=simulcast', !/^a=simulcast/m.test(r.whip.body) && answerVideo !== '',
        scLines);
    }
    if (!await bothConnected(o, pub, view, checks)) return;
    const { p1, p2, v2 } = await measureRates(o, pub, view, checks);
    const encodings = await pub.evaluate(() => senderEncodings());
    checks.check(`publisher sender keeps ${want} encoding(s)`, encodings.length === want,
      JSON.stringify(encodings));
    // An encoding is producing when its framesEncoded rose over the window.
    const before = new Map(p1.outbound.map((e) => [e.ssrc, e.framesEncoded]));
    const producing = p2.outbound.filter((e) => e.framesEncoded > (before.get(e.ssrc) ?? 0));
    const active = p2.outbound.filter((e) => e.active !== false);
    checks.check(`publisher outbound-rtp shows ${want} active encoding(s)`,
      producing.length === want && active.length === want,
      p2.outbound.map((e) => `ssrc ${e.ssrc} rid ${e.rid} active ${e.active} ${e.width}x${e.height} `
        + `framesEncoded ${e.framesEncoded}`).join(' | ') || 'no outbound-rtp');
    console.log(`INFO viewer ${v2.inbound?.mime} ${v2.inbound?.width}x${v2.inbound?.height}, `
      + `<video> ${v2.videoWidth} wide`);
  } finally {
    await deleteSessions(r.sessions, checks);
  }
}

async function main() {
  const o = options();
  const checks = new Checks();
  console.log(`INFO room ${o.room}, ${o.url}, rids ${o.rids}`);
  await withBrowser(o, checks, (pages) => run(o, checks, pages));
  process.exitCode = checks.summary();
}

main();
