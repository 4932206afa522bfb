#!/usr/bin/env node
// The two Chromium sides of netlab.sh (issue 12, "Calls that survive bad
// networks"). netlab.sh runs each in a network namespace of its own:
//
//   --role publisher: WHIP-publishes the fake camera and microphone, writes
//     its participant id to --participant-file once connected, and keeps
//     publishing until the file FILE.stop appears; then prints its encoded frame rate, DELETEs
//     and exits.
//   --role viewer: for each row of --rows, a fresh WHEP session on the
//     publisher's participant: --warmup s on a clean link, then the row's
//     nftables rules in table `inet --nft-table` (chains `in` and `out`, made
//     by netlab.sh; this process runs inside that namespace, as root), its
//     figures from the viewer's getStats(), the rules flushed, DELETE.
//
// Rows:
//   loss10, loss30: N % random loss of UDP both ways for --measure s.
//     Figures: frames decoded per second, freezeCount and
//     totalFreezesDuration over the window, audio concealedSamples /
//     totalSamplesReceived, the nft counters (the loss really applied), the
//     selected candidate pair's protocol.
//     Goals: loss10 >= 19 fps (the fake camera makes 20) and no freeze;
//     loss30 >= 15 fps, <= 1 s frozen, <= 5 % of audio concealed.
//   police250: a 250 kbit/s policer (12 kB burst) on the viewer's incoming
//     UDP for --measure s. Goals: >= 15 fps decoded, <= 1 s frozen.
//   police250_join: that policer already in place when the viewer's
//     session starts (its warmup is policed too); the same goals over the
//     --measure s after the warmup (the dropped count covers both).
//   police_step: 2 Mbit/s for 10 s, 300 kbit/s for 10 s, lifted. Goals:
//     the decoded width below the 2 Mbit/s one <= 2 s after the drop, back
//     <= 10 s after the lift. Both are for a simulcast publisher
//     (--simulcast here, media.simulcast=true in the sfu).
//   blackout: all UDP dropped both ways for --blackout-ms, then clear.
//     Figures: the time from the clear to the first newly decoded frame
//     ("video back after") and the gap between the last frame before and
//     the first after. Goal: back <= 300 ms after the clear.
//
// Each goal is a PASS/FAIL line; with --report-only it is an INFO line and
// does not fail the run (for measuring). Setup (WHEP 201, connected, rules
// applied and dropping) is always checked. Every figure is also printed on
// one "FIGURE row key=value ..." line.

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Checks, COMMON_OPTIONS, sleep, withPage } from './chromium_lib.mjs';

const ROWS = {
  loss10: { loss: 10, floorFps: 18, minFps: 19, maxFreezes: 0, maxFrozen: null, maxConcealed: null },
  loss30: { loss: 30, floorFps: 15, minFps: 15, maxFreezes: null, maxFrozen: 1.0, maxConcealed: 0.05 },
  blackout: { maxResumeMs: 300 },
  // Policers on the viewer's incoming UDP (bandwidth estimation per viewer,
  // issue 9; run with a simulcast publisher: --simulcast and the sfu's
  // media.simulcast=true).
  police250: { kbit: 250, minFps: 15, maxFrozen: 1.0 },
  // The same policer from before the viewer's session starts (a viewer on
  // a 250 kbit/s link, rather than one whose link drops to it): the
  // warmup runs policed too, the figures cover --measure s after it.
  police250_join: { kbit: 250, minFps: 15, maxFrozen: 1.0, before: true },
  police_step: { highKbit: 2000, lowKbit: 300, highS: 10, lowS: 10, maxDownS: 2, maxUpS: 10 },
  // No impairment: a viewer on a clean link keeps the top layer (with
  // --simulcast: the publisher's 1280 wide one) at >= 18 fps.
  clean: { minFps: 18, minWidth: 1280 },
};

function options() {
  const { values } = parseArgs({
    options: {
      ...COMMON_OPTIONS,
      role: { type: 'string' },
      'participant-file': { type: 'string' },
      rows: { type: 'string', default: 'loss10,loss30,blackout' },
      measure: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '3' },
      'blackout-ms': { type: 'string', default: '2000' },
      'nft-table': { type: 'string', default: 'lab' },
      'report-only': { type: 'boolean', default: false },
      simulcast: { type: 'boolean', default: false },
    },
  });
  const rows = (values.rows || '').split(',').filter(Boolean);
  if (!values.url || !values.room || !values['participant-file']
      || !['publisher', 'viewer'].includes(values.role)
      || rows.some((r) => !(r in ROWS))) {
    console.error('usage: netlab.mjs --role publisher|viewer --url URL --room ROOM '
      + '--participant-file FILE [--rows loss10,loss30,blackout] [--measure 10] [--warmup 3] '
      + '[--blackout-ms 2000] [--nft-table lab] [--report-only]');
    process.exit(2);
  }
  values.url = values.url.replace(/\/+$/, '');
  values.rowList = rows;
  return values;
}

const nft = (...args) => execFileSync('nft', args, { encoding: 'utf8' });

// Rules in both chains, added in one transaction: a counter of every UDP
// packet, then the drop.
function applyRule(table, dropExpr) {
  const drop = ['meta l4proto udp', ...dropExpr, 'counter drop'].join(' ');
  const script = ['in', 'out'].map((chain) => `add rule inet ${table} ${chain} meta l4proto udp counter\n`
    + `add rule inet ${table} ${chain} ${drop}\n`).join('');
  execFileSync('nft', ['-f', '-'], { input: script });
}
// A token-bucket policer on the viewer's incoming UDP: `kbit` kbit/s, a
// 12 kB burst, the excess dropped (chain `in` only).
function policeRule(table, kbit) {
  const kbytes = Math.max(1, Math.round(kbit * 1000 / 8 / 1024));
  const script = `flush chain inet ${table} in\n`
    + `add rule inet ${table} in meta l4proto udp counter\n`
    + `add rule inet ${table} in meta l4proto udp limit rate over ${kbytes} kbytes/second burst 12 kbytes counter drop\n`;
  execFileSync('nft', ['-f', '-'], { input: script });
}
// { in: [seen, dropped], out: [...] } from the counters, then both chains
// emptied in one transaction.
function clearRules(table) {
  const out = {};
  for (const chain of ['in', 'out']) {
    const text = nft('list', 'chain', 'inet', table, chain);
    const counts = [...text.matchAll(/counter packets (\d+)/g)].map((m) => Number(m[1]));
    out[chain] = [counts[0] || 0, counts[1] || 0];
  }
  execFileSync('nft', ['-f', '-'], { input: `flush chain inet ${table} in\nflush chain inet ${table} out\n` });
  return out;
}
const pct = (a, b) => (b > 0 ? (100 * a / b).toFixed(1) : '0.0');

async function publisher(o, checks, page) {
  // Simulcast: three layers, lowest first (Chromium keeps those its
  // resolution allows).
  const opts = o.simulcast ? { video: { width: 1280, height: 720 },
    sendEncodings: [{ rid: 'q', scaleResolutionDownBy: 4 }, { rid: 'h', scaleResolutionDownBy: 2 }, { rid: 'f' }] }
    : {};
  const offer = await page.evaluate((p) => publish(p), opts);
  const whip = await page.evaluate(([u, s]) => post(u, s),
    [`${o.url}/whip/${encodeURIComponent(o.room)}`, offer.sdp]);
  if (!checks.check('publisher WHIP POST 201', whip.status === 201 && !!whip.participant,
    `status ${whip.status}`)) return;
  await page.evaluate((s) => applyAnswer(s), whip.body);
  const state = await page.evaluate((t) => connected(t), 15000);
  if (!checks.check('publisher connected', state === 'connected', `connectionState ${state}`)) return;
  const s1 = await page.evaluate(() => stats());
  writeFileSync(o['participant-file'], whip.participant + '\n');
  // Until netlab.sh creates FILE.stop (playwright closes the browser on
  // SIGTERM, before the last figures could be read).
  while (!existsSync(o['participant-file'] + '.stop')) await sleep(100);
  const s2 = await page.evaluate(() => stats());
  const enc = (s) => s.outbound.reduce((n, e) => n + e.framesEncoded, 0);
  const rate = (enc(s2) - enc(s1)) / ((s2.t - s1.t) / 1000);
  const p = s2.pair || { local: {} };
  console.log(`INFO publisher framesEncoded ${enc(s2)} (${rate.toFixed(1)}/s over `
    + `${((s2.t - s1.t) / 1000).toFixed(1)} s), candidate pair ${p.local.protocol}`);
  checks.check('publisher encoded video', rate > 5, `${rate.toFixed(1)} frames/s`);
  const status = await page.evaluate((u) => del(u), whip.location).catch((e) => e.message);
  checks.check('publisher DELETE 200', status === 200, `status ${status}`);
}

// A goal: a real check, or with --report-only an INFO line.
function goal(o, checks, name, ok, detail) {
  if (o['report-only']) console.log(`INFO goal ${ok ? 'met' : 'NOT met'}: ${name}: ${detail}`);
  else checks.check(name, ok, detail);
}

async function lossRow(o, checks, page, name, row) {
  const table = o['nft-table'];
  const s1 = await page.evaluate(() => stats());
  applyRule(table, ['numgen', 'random', 'mod', '100', '<', String(row.loss)]);
  let counters;
  const trace = [];
  try {
    await lossTrace(page, Number(o.measure), s1, trace);
  } finally {
    counters = clearRules(table);
  }
  const s2 = await page.evaluate(() => stats());
  const secs = (s2.t - s1.t) / 1000;
  const v1 = s1.inbound || {}, v2 = s2.inbound || {};
  const fps = ((v2.framesDecoded || 0) - (v1.framesDecoded || 0)) / secs;
  const freezes = (v2.freezes || 0) - (v1.freezes || 0);
  const frozen = (v2.freezeSeconds || 0) - (v1.freezeSeconds || 0);
  const a1 = s1.audio || {}, a2 = s2.audio || {};
  const samples = (a2.samples || 0) - (a1.samples || 0);
  const concealed = (a2.concealed || 0) - (a1.concealed || 0);
  const concealedRatio = samples > 0 ? concealed / samples : 1;
  const proto = s2.pair ? s2.pair.local.protocol : 'none';
  const [inSeen, inDrop] = counters.in, [outSeen, outDrop] = counters.out;
  console.log(`FIGURE ${name} loss=${row.loss}% seconds=${secs.toFixed(1)} fps=${fps.toFixed(1)} `
    + `freezes=${freezes} frozen_s=${frozen.toFixed(2)} `
    + `audio_concealed=${(100 * concealedRatio).toFixed(1)}% (${concealed}/${samples} samples) `
    + `protocol=${proto} nacks=${(v2.nacks || 0) - (v1.nacks || 0)} `
    + `plis=${(v2.plis || 0) - (v1.plis || 0)} keyframes=${(v2.keyFrames || 0) - (v1.keyFrames || 0)} `
    + `dropped_in=${inDrop}/${inSeen} (${pct(inDrop, inSeen)}%) `
    + `dropped_out=${outDrop}/${outSeen} (${pct(outDrop, outSeen)}%) ` + await bweMetrics(o));
  console.log(`TRACE ${name} ${trace.join(' ')}`);
  // The loss was really there: each direction dropped the asked rate, give
  // or take 4 standard deviations of a binomial count (at least 5 points).
  const near = (d, s) => {
    const p = row.loss / 100, sd = s > 0 ? 100 * Math.sqrt(p * (1 - p) / s) : 0;
    return s > 50 && Math.abs(100 * d / s - row.loss) <= Math.max(5, 4 * sd);
  };
  checks.check(`${name}: nftables dropped ~${row.loss}% of UDP both ways`,
    near(inDrop, inSeen) && near(outDrop, outSeen),
    `in ${pct(inDrop, inSeen)}% of ${inSeen}, out ${pct(outDrop, outSeen)}% of ${outSeen}`);
  checks.check(`${name}: audio samples received`, samples > 0, `${samples} samples`);
  goal(o, checks, `${name}: >= ${row.minFps} fps decoded`, fps >= row.minFps, `${fps.toFixed(1)} fps`);
  // A floor that holds today, asserted even with --report-only: video that
  // stops under loss (as a too-short NACK window once made it) fails here.
  checks.check(`${name}: floor >= ${row.floorFps} fps decoded`, fps >= row.floorFps, `${fps.toFixed(1)} fps`);
  if (row.maxFreezes !== null) {
    goal(o, checks, `${name}: <= ${row.maxFreezes} freezes`, freezes <= row.maxFreezes,
      `${freezes} freezes, ${frozen.toFixed(2)} s frozen`);
  }
  if (row.maxFrozen !== null) {
    goal(o, checks, `${name}: <= ${row.maxFrozen} s frozen`, frozen <= row.maxFrozen,
      `${frozen.toFixed(2)} s frozen in ${freezes} freezes over ${secs.toFixed(1)} s`);
  }
  if (row.maxConcealed !== null) {
    goal(o, checks, `${name}: <= ${100 * row.maxConcealed}% audio concealed`,
      samples > 0 && concealedRatio <= row.maxConcealed,
      `${(100 * concealedRatio).toFixed(1)}% (${concealed} of ${samples} samples)`);
  }
  return fps >= 1;
}

async function blackoutRow(o, checks, page, name, row) {
  const table = o['nft-table'];
  const blackMs = Number(o['blackout-ms']);
  const after = 5000;   // watched after the clear; longer than any goal
  // Sampled in the page every 20 ms, from 1 s before the drop to `after` past the clear.
  const sampling = page.evaluate(([ms, step]) => sampleFrames(ms, step), [1000 + blackMs + after, 20]);
  await sleep(1000);
  const tDrop = await page.evaluate(() => performance.now());
  applyRule(table, []);
  let counters, tClear;
  try {
    await sleep(blackMs);
  } finally {
    counters = clearRules(table);
    tClear = await page.evaluate(() => performance.now());
  }
  const samples = await sampling;
  const s2 = await page.evaluate(() => stats());
  // The last sample whose count rose before the clear, and the first after it.
  let lastBefore = null, firstAfter = null;
  for (let i = 1; i < samples.length; i++) {
    const [t, f] = samples[i];
    if (f <= samples[i - 1][1]) continue;
    if (t <= tClear) lastBefore = t;
    else if (firstAfter === null) firstAfter = t;
  }
  const back = firstAfter === null ? null : firstAfter - tClear;
  const gap = firstAfter === null || lastBefore === null ? null : firstAfter - lastBefore;
  const stoppedAfterDrop = lastBefore === null ? null : lastBefore - tDrop;
  // Still flowing at the end: frames decoded in the window's last second.
  const tEnd = samples[samples.length - 1][0];
  const lastSecond = samples.filter(([t]) => t >= tEnd - 1000);
  const endFrames = lastSecond.length ? lastSecond[lastSecond.length - 1][1] - lastSecond[0][1] : 0;
  const proto = s2.pair ? s2.pair.local.protocol : 'none';
  const fmt = (x) => (x === null ? 'never' : `${Math.round(x)}ms`);
  console.log(`FIGURE ${name} blackout_ms=${blackMs} video_back_after=${fmt(back)} `
    + `gap=${fmt(gap)} last_frame_after_drop=${fmt(stoppedAfterDrop)} protocol=${proto} `
    + `frames_in_last_s=${endFrames} connection=${s2.connectionState} `
    + `dropped_in=${counters.in[1]} dropped_out=${counters.out[1]}`);
  checks.check(`${name}: nftables dropped all UDP both ways`,
    counters.in[1] > 0 && counters.out[1] > 0 && counters.in[1] === counters.in[0]
      && counters.out[1] === counters.out[0],
    `in ${counters.in[1]}/${counters.in[0]}, out ${counters.out[1]}/${counters.out[0]}`);
  checks.check(`${name}: video stopped during the blackout`,
    lastBefore !== null && lastBefore < tClear - blackMs / 2,
    `last frame ${fmt(stoppedAfterDrop)} after the drop`);
  goal(o, checks, `${name}: video back <= ${row.maxResumeMs} ms after the clear`,
    back !== null && back <= row.maxResumeMs, `${fmt(back)} (gap ${fmt(gap)})`);
  // Asserted even with --report-only: a path that lost consent in the
  // blackout once stayed silent for good.
  checks.check(`${name}: video still flowing ${after / 1000} s after the clear`, endFrames >= 10,
    `${endFrames} frames in the last second, connectionState ${s2.connectionState}`);
  return endFrames >= 10;
}

// What GET /rooms/{room} says of the viewer's video m-line: "e<estimate
// kbit/s>t<max_tid>" (the sfu's estimate toward it and the VP8 temporal
// layers it forwards, 3: all), or "" when it cannot tell.
async function sinkState(o) {
  try {
    const r = await (await fetch(`${o.url}/rooms/${encodeURIComponent(o.room)}`)).json();
    const k = (r.viewers || []).flatMap((v) => v.receiving || [])[0];
    return k ? `/e${Math.round(k.estimate_bps / 1000)}t${k.max_tid}` : '';
  } catch {
    return '';
  }
}

// The sfu's probe counter (sfu_bwe_probes_total), or -1.
async function probeCount(o) {
  try {
    const m = (await (await fetch(`${o.url}/metrics`)).text()).match(/^sfu_bwe_probes_total (\d+)/m);
    return m ? Number(m[1]) : -1;
  } catch {
    return -1;
  }
}

// About `secs` s, sampling the viewer's stats every second into `trace`
// as "t:fps/width/kbit/e<kbit>t<tid>[/F<frozen ms>][/P<probes>]" (frames
// decoded per second, the decoded width, the received video bitrate, then
// sinkState, then the time frozen and the probes sent in that second when
// not 0): what the figures of a row average over.
async function traceFor(o, page, secs, s0, trace) {
  const end = Date.now() + secs * 1000;
  let prev = s0, probes = await probeCount(o);
  while (Date.now() < end) {
    await sleep(Math.min(1000, Math.max(0, end - Date.now())));
    const s = await page.evaluate(() => stats());
    const dt = (s.t - prev.t) / 1000, a = prev.inbound || {}, b = s.inbound || {};
    const p = await probeCount(o);
    if (dt > 0) {
      const frozenMs = Math.round(1000 * ((b.freezeSeconds || 0) - (a.freezeSeconds || 0)));
      trace.push(`${((s.t - s0.t) / 1000).toFixed(0)}:${(((b.framesDecoded || 0) - (a.framesDecoded || 0)) / dt).toFixed(0)}`
        + `/${b.width || 0}/${((8 * ((b.bytes || 0) - (a.bytes || 0))) / dt / 1000).toFixed(0)}${await sinkState(o)}`
        + (frozenMs ? `/F${frozenMs}` : '') + (p > probes && probes >= 0 ? `/P${p - probes}` : ''));
    }
    prev = s;
    probes = p;
  }
}

// About `secs` s, sampling the viewer's stats every second into `trace` as
// "t:fps/frozen_ms/nacks/plis/keyframes/audio_concealed_permille": where in
// a loss row's window its freezes and concealment fall.
async function lossTrace(page, secs, s0, trace) {
  const end = Date.now() + secs * 1000;
  let prev = s0;
  while (Date.now() < end) {
    await sleep(Math.min(1000, Math.max(0, end - Date.now())));
    const s = await page.evaluate(() => stats());
    const dt = (s.t - prev.t) / 1000, a = prev.inbound || {}, b = s.inbound || {};
    const aa = prev.audio || {}, ab = s.audio || {};
    const d = (k) => (b[k] || 0) - (a[k] || 0);
    const samples = (ab.samples || 0) - (aa.samples || 0);
    const conc = samples > 0 ? Math.round(1000 * ((ab.concealed || 0) - (aa.concealed || 0)) / samples) : -1;
    if (dt > 0) {
      trace.push(`${((s.t - s0.t) / 1000).toFixed(0)}:${(d('framesDecoded') / dt).toFixed(0)}`
        + `/${Math.round(1000 * d('freezeSeconds'))}/${d('nacks')}/${d('plis')}/${d('keyFrames')}/${conc}`);
    }
    prev = s;
  }
}

// police250: the policer for --measure s: frames decoded per second and
// time frozen.
async function policeRow(o, checks, page, name, row) {
  const table = o['nft-table'];
  const s1 = await page.evaluate(() => stats());
  if (!row.before) policeRule(table, row.kbit);
  let counters;
  const trace = [];
  try {
    await traceFor(o, page, Number(o.measure), s1, trace);
  } finally {
    counters = clearRules(table);
  }
  const s2 = await page.evaluate(() => stats());
  const secs = (s2.t - s1.t) / 1000;
  const v1 = s1.inbound || {}, v2 = s2.inbound || {};
  const fps = ((v2.framesDecoded || 0) - (v1.framesDecoded || 0)) / secs;
  const frozen = (v2.freezeSeconds || 0) - (v1.freezeSeconds || 0);
  const freezes = (v2.freezes || 0) - (v1.freezes || 0);
  console.log(`FIGURE ${name} police=${row.kbit}kbit/s seconds=${secs.toFixed(1)} fps=${fps.toFixed(1)} `
    + `freezes=${freezes} frozen_s=${frozen.toFixed(2)} width=${v1.width}->${v2.width} `
    + `nacks=${(v2.nacks || 0) - (v1.nacks || 0)} plis=${(v2.plis || 0) - (v1.plis || 0)} `
    + `dropped_in=${counters.in[1]}/${counters.in[0]} (${pct(counters.in[1], counters.in[0])}%) `
    + await bweMetrics(o));
  console.log(`TRACE ${name} ${trace.join(' ')}`);
  checks.check(`${name}: the policer dropped packets`, counters.in[0] > 0, `${counters.in[1]}/${counters.in[0]}`);
  goal(o, checks, `${name}: >= ${row.minFps} fps decoded`, fps >= row.minFps, `${fps.toFixed(1)} fps`);
  goal(o, checks, `${name}: <= ${row.maxFrozen} s frozen`, frozen <= row.maxFrozen,
    `${frozen.toFixed(2)} s frozen in ${freezes} freezes over ${secs.toFixed(1)} s`);
  return fps >= 1;
}

// clean: --measure s without rules: frames decoded per second and the
// decoded width (the top layer with a simulcast publisher).
async function cleanRow(o, checks, page, name, row) {
  const s1 = await page.evaluate(() => stats());
  const trace = [];
  await traceFor(o, page, Number(o.measure), s1, trace);
  const s2 = await page.evaluate(() => stats());
  const secs = (s2.t - s1.t) / 1000;
  const v1 = s1.inbound || {}, v2 = s2.inbound || {};
  const fps = ((v2.framesDecoded || 0) - (v1.framesDecoded || 0)) / secs;
  const frozen = (v2.freezeSeconds || 0) - (v1.freezeSeconds || 0);
  console.log(`FIGURE ${name} seconds=${secs.toFixed(1)} fps=${fps.toFixed(1)} `
    + `frozen_s=${frozen.toFixed(2)} width=${v1.width}->${v2.width} ` + await bweMetrics(o));
  console.log(`TRACE ${name} ${trace.join(' ')}`);
  goal(o, checks, `${name}: >= ${row.minFps} fps decoded`, fps >= row.minFps, `${fps.toFixed(1)} fps`);
  if (o.simulcast) {
    goal(o, checks, `${name}: the top layer (${row.minWidth} wide) at the end`, (v2.width || 0) >= row.minWidth,
      `${v2.width || 0} wide`);
  }
  return fps >= 1;
}

// police_step: highKbit for highS s, lowKbit for lowS s, then lifted:
// seconds until the decoded width falls below the high phase's, and until
// it is back after the lift.
async function policeStepRow(o, checks, page, name, row) {
  const table = o['nft-table'];
  const width = async () => ((await page.evaluate(() => stats())).inbound || {}).width || 0;
  // until(pred, s): seconds until pred(width) holds, or null
  const until = async (pred, s) => {
    const t0 = Date.now();
    while (Date.now() - t0 < s * 1000) {
      if (pred(await width())) return (Date.now() - t0) / 1000;
      await sleep(100);
    }
    return null;
  };
  let counters, wHigh = 0, down = null, wLow = 0, up = null;
  try {
    policeRule(table, row.highKbit);
    await sleep(row.highS * 1000);
    wHigh = await width();
    policeRule(table, row.lowKbit);
    down = await until((w) => w > 0 && w < wHigh, row.lowS);
    await sleep(Math.max(0, row.lowS - (down || row.lowS)) * 1000);
    wLow = await width();
  } finally {
    counters = clearRules(table);
  }
  up = await until((w) => w >= wHigh, row.maxUpS + 5);
  const fmt = (x) => (x === null ? 'never' : `${x.toFixed(1)}s`);
  console.log(`FIGURE ${name} high=${row.highKbit}kbit/s low=${row.lowKbit}kbit/s width_high=${wHigh} `
    + `width_low=${wLow} lower_layer_after=${fmt(down)} top_back_after_lift=${fmt(up)} `
    + `dropped_in=${counters.in[1]}/${counters.in[0]} ` + await bweMetrics(o));
  goal(o, checks, `${name}: lower layer <= ${row.maxDownS} s after ${row.lowKbit} kbit/s`,
    down !== null && down <= row.maxDownS, fmt(down));
  goal(o, checks, `${name}: top layer back <= ${row.maxUpS} s after the lift`, up !== null && up <= row.maxUpS,
    fmt(up));
  return true;
}

// The sfu's estimation counters (sfu_bwe_*), for the FIGURE lines.
async function bweMetrics(o) {
  try {
    const text = await (await fetch(`${o.url}/metrics`)).text();
    const plain = [...text.matchAll(/^sfu_((bwe_)?[a-z_]+) (\d+)/gm)]
      .filter((m) => m[2] || /^(audio_copies|video_copies|copies_withheld|rtp_retransmitted|rtp_retransmitted_unasked|rtx_missed|repair_keyframe_requests|plis_received|keyframe_replays)_total$/.test(m[1]))
      .map((m) => `${m[2] ? m[1].slice(4) : m[1]}=${m[3]}`);
    // RED toward the viewer (passed on, or reduced to Opus), and the
    // retransmissions refused (budget, too late to help).
    const labelled = [...text.matchAll(/^sfu_(audio_red_packets_total\{action|dropped_packets_total\{reason)="(passed|reduced|rtx_rate|rtx_useless)"\} (\d+)/gm)]
      .map((m) => `${m[1].startsWith('audio') ? 'red_' : 'drop_'}${m[2]}=${m[3]}`);
    return [...plain, ...labelled].join(' ');
  } catch (e) {
    return `metrics: ${e.message}`;
  }
}

async function viewer(o, checks, page) {
  const participant = readFileSync(o['participant-file'], 'utf8').trim();
  const whepUrl = `${o.url}/whep/${encodeURIComponent(o.room)}/${encodeURIComponent(participant)}`;
  clearRules(o['nft-table']);   // the chains exist and start empty
  for (const name of o.rowList) {
    const row = ROWS[name];
    let flowing = true;
    if (row.before) policeRule(o['nft-table'], row.kbit);
    const voffer = await page.evaluate(() => viewerOffer());
    const whep = await page.evaluate(([u, s]) => post(u, s), [whepUrl, voffer.sdp]);
    if (!checks.check(`${name}: WHEP POST 201`, whep.status === 201 && !!whep.location,
      `status ${whep.status}`)) continue;
    try {
      await page.evaluate((s) => applyAnswer(s), whep.body);
      const state = await page.evaluate((t) => connected(t), 15000);
      if (!checks.check(`${name}: viewer connected`, state === 'connected', `connectionState ${state}`)) continue;
      await sleep(Number(o.warmup) * 1000);
      const s0 = await page.evaluate(() => stats());
      if (!checks.check(`${name}: video decoding before the impairment`,
        (s0.inbound?.framesDecoded || 0) > 0, `${s0.inbound?.framesDecoded || 0} frames`)) continue;
      flowing = name === 'blackout' ? await blackoutRow(o, checks, page, name, row)
        : name === 'police250' || name === 'police250_join' ? await policeRow(o, checks, page, name, row)
          : name === 'police_step' ? await policeStepRow(o, checks, page, name, row)
            : name === 'clean' ? await cleanRow(o, checks, page, name, row)
            : await lossRow(o, checks, page, name, row);
    } finally {
      if (row.before) clearRules(o['nft-table']);   // also when the row stopped short
      // A session whose media stopped for good (a failed goal above says
      // so) may be one the sfu has ended: 404 then.
      const status = await page.evaluate((u) => del(u), whep.location).catch((e) => e.message);
      if (flowing) checks.check(`${name}: viewer DELETE 200`, status === 200, `status ${status}`);
      else console.log(`INFO ${name}: viewer DELETE ${status} after the media stopped`);
      await page.evaluate(() => close());
    }
  }
}

const o = options();
const checks = new Checks();
console.log(`INFO ${o.role}, room ${o.room}, ${o.url}`);
await withPage(o, checks, (page) => (o.role === 'publisher' ? publisher : viewer)(o, checks, page));
process.exitCode = checks.summary();
