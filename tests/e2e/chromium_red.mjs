#!/usr/bin/env node
// Audio RED (RFC 2198) end to end: a Chromium publisher offering red+opus,
// watched by a Chromium viewer (which offers RED too) and by an aiortc
// viewer (Opus only, so the SFU reduces RED to the primary Opus block).
//
//   node tests/e2e/chromium_red.mjs --url http://127.0.0.1:PORT [--seconds 10]
//
// Checks, one line each, then "N passed, M failed":
//   the WHIP and WHEP answers list red/48000/2 before Opus; the SFU's
//   /metrics count RED packets in from the publisher, passed on as RED (to
//   the Chromium viewer) and reduced to Opus (for aiortc); the Chromium
//   viewer's audio flows and is not mostly concealed; the aiortc viewer's
//   answer has no RED and it decodes Opus audio frames at >= 80% of 50
//   frames/s, some of them not silent. Figures are printed (INFO).
//   Chromium's getStats() names the codec audio/opus on both ends even
//   when RED flows (its receiver splits RED before decoding), so the codec
//   seen there is printed, not checked; the SFU's counters are the proof.
// Options: --seconds 10, --max-concealed 0.2 (on loopback; the loss lab
// measures it under loss), --python /usr/bin/python3.

import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Checks, COMMON_OPTIONS, bothConnected, deleteSessions, randomRoom, sleep, whipWhep,
         withBrowser } from './chromium_lib.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));

function options() {
  const { values } = parseArgs({ options: { ...COMMON_OPTIONS,
    'max-concealed': { type: 'string', default: '0.2' },
    python: { type: 'string', default: '/usr/bin/python3' } } });
  if (!values.url) {
    console.error('usage: chromium_red.mjs --url http://127.0.0.1:PORT [--seconds 10]');
    process.exit(2);
  }
  values.url = values.url.replace(/\/+$/, '');
  values.room ??= randomRoom('red');
  return values;
}

function aiortcViewer(o, participant, seconds) {
  return new Promise((resolve) => {
    const child = spawn(o.python, [join(HERE, 'whep_audio_viewer.py'), '--url', o.url, '--room', o.room,
      '--participant', participant, '--seconds', String(seconds)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (d) => { text += d; });
    child.on('close', (code) => {
      const line = text.trim().split('\n').pop() || '';
      try { resolve({ code, ...JSON.parse(line) }); } catch { resolve({ code, error: text.trim() }); }
    });
  });
}

async function redCounters(o) {
  const text = await (await fetch(`${o.url}/metrics`)).text();
  const get = (action) => Number((new RegExp(`^sfu_audio_red_packets_total\\{action="${action}"\\} (\\d+)`, 'm')
    .exec(text) || [])[1] || 0);
  const copies = Number((/^sfu_audio_copies_total (\d+)/m.exec(text) || [])[1] || 0);
  return { in: get('in'), passed: get('passed'), reduced: get('reduced'), copies };
}

const redFirst = (sdp) => {
  const m = /^m=audio \d+ [A-Z/]+ (\d+)/m.exec(sdp || '');
  const red = /^a=rtpmap:(\d+) red\/48000\/2/m.exec(sdp || '');
  return !!(m && red && m[1] === red[1]);
};

async function run(o, checks, { pub, view }) {
  const r = await whipWhep(o, pub, view, checks);
  try {
    if (checks.failed > 0 || r.sessions.length < 2) return;
    checks.check('publisher offered red', /a=rtpmap:\d+ red\/48000\/2/.test(r.offer), '');
    checks.check('WHIP answer: red before opus', redFirst(r.whip.body), '');
    checks.check('WHEP answer (Chromium viewer): red before opus', redFirst(r.whep.body), '');
    if (!await bothConnected(o, pub, view, checks)) return;
    const seconds = Number(o.seconds);
    const aio = aiortcViewer(o, r.whip.participant, seconds);
    await sleep(2000);
    const [p1, v1] = await Promise.all([pub.evaluate(() => stats()), view.evaluate(() => stats())]);
    await sleep((seconds - 2) * 1000);
    const [p2, v2] = await Promise.all([pub.evaluate(() => stats()), view.evaluate(() => stats())]);
    const a = await aio;
    const red = await redCounters(o);
    const ai1 = v1.audio || {}, ai2 = v2.audio || {};
    const total = (ai2.samples || 0) - (ai1.samples || 0), concealed = (ai2.concealed || 0) - (ai1.concealed || 0);
    const ratio = total > 0 ? concealed / total : 1;
    console.log(`INFO publisher audio codec ${p2.audioOutMime}; Chromium viewer audio codec ${ai2.mime}, `
      + `packets ${v2.audioPackets}, lost ${ai2.lost}, concealed ${concealed}/${total} samples `
      + `(${(ratio * 100).toFixed(2)}%) over ${seconds - 2} s`);
    console.log(`INFO aiortc viewer: ${JSON.stringify(a)}`);
    console.log(`INFO sfu_audio_red_packets_total: ${JSON.stringify(red)}`);
    checks.check('SFU receives RED from the publisher', red.in >= 40 * (seconds - 2), `in ${red.in}`);
    checks.check('SFU passes RED to the Chromium viewer', red.passed >= 0.9 * red.in, `passed ${red.passed}`);
    checks.check('SFU reduces RED to Opus for aiortc', red.reduced >= 40 * (seconds - 4),
      `reduced ${red.reduced}`);
    checks.check('Chromium viewer audio flows', v2.audioPackets > v1.audioPackets && total > 0,
      `packets ${v1.audioPackets} -> ${v2.audioPackets}, samples ${total}`);
    checks.check(`Chromium viewer concealed <= ${o['max-concealed']}`, ratio <= Number(o['max-concealed']),
      `${(ratio * 100).toFixed(2)}%`);
    checks.check('aiortc viewer connected, answer without red', a.connected === true && a.answer_has_red === false,
      `connected ${a.connected}, red in answer ${a.answer_has_red}`);
    const want = 0.8 * 50 * (a.seconds || seconds);
    checks.check('aiortc viewer decodes Opus', a.audio_frames >= want && a.audio_loud > 0,
      `${a.audio_frames} frames (want >= ${want.toFixed(0)}), ${a.audio_loud} not silent`);
  } finally {
    await deleteSessions(r.sessions, checks);
  }
}

const o = options();
const checks = new Checks();
console.log(`INFO room ${o.room}, ${o.url}`);
await withBrowser(o, checks, (pages) => run(o, checks, pages));
process.exitCode = checks.summary();
