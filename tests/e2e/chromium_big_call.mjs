#!/usr/bin/env node
// The call page (web/) in a room larger than its grid: headless Chromium joins
// a room of --publishers aiortc WHIP publishers (tests/e2e/big_room.py's
// publisher child: 128x96 VP8 at 5 fps and Opus each, five of them talking)
// and must subscribe by what it shows (web/js/subscriptions.js, docs/API.md
// "POST /sessions/{id}/subscriptions"):
//   - grid: a tile for everyone, pictures for nine (the speaker first); the
//     subscription lists exactly those nine with their heights; the server's
//     offers carry video for those nine only, audio on five slot m-lines;
//     the nine decode (frames rising), the others show no video;
//   - speaker view (the page's button): six pictures, the big one asked at a
//     larger height than the strip; the offers follow (six video m-lines
//     active) and the six decode;
//   - Leave; the publishers leave; the room is gone.
//
//   node tests/e2e/chromium_big_call.mjs --url http://127.0.0.1:PORT [--publishers 11]
//       [--room NAME] [--chromium PATH] [--screenshot FILE]
// Prints one PASS/FAIL line per check, then "N passed, M failed"; exit 0 only
// when all passed. Needs Debian chromium, python3-aiortc and `npm ci` here.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, Checks, sleep } from './chromium_lib.mjs';
import { MAX_VIDEO_TILES, MAX_STRIP_TILES } from '../../web/js/subscriptions.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const SLOTS = 5;    // [room] audio_slots default

function options() {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      publishers: { type: 'string', default: '11' },
      room: { type: 'string' },
      screenshot: { type: 'string' },
      chromium: { type: 'string', default: '/usr/bin/chromium' },
      timeout: { type: 'string', default: '25' },
    },
  });
  if (!values.url) {
    console.error('usage: chromium_big_call.mjs --url http://127.0.0.1:PORT [--publishers 11]');
    process.exit(2);
  }
  values.url = values.url.replace(/\/+$/, '');
  values.room ??= 'bigcall-' + Math.random().toString(16).slice(2, 10);
  values.npub = Number(values.publishers);
  values.timeoutMs = Number(values.timeout) * 1000;
  return values;
}


/** big_room.py's publisher child: JSON lines out, commands in. */
function startPublishers(o) {
  const child = spawn('/usr/bin/python3', [join(HERE, 'big_room.py'), '--child', 'pubs', '--url', o.url,
    '--room', o.room, '--first', '0', '--count', String(o.npub)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const waiting = [];
  const queue = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    let m;
    try { m = JSON.parse(line); } catch { return; }
    const w = waiting.findIndex((x) => x.type === m.type);
    if (w >= 0) waiting.splice(w, 1)[0].resolve(m); else queue.push(m);
  });
  return {
    child,
    expect(type, ms) {
      const i = queue.findIndex((m) => m.type === type);
      if (i >= 0) return Promise.resolve(queue.splice(i, 1)[0]);
      return new Promise((res) => {
        const entry = { type, resolve: res };
        waiting.push(entry);
        setTimeout(() => { const k = waiting.indexOf(entry); if (k >= 0) { waiting.splice(k, 1); res(null); } }, ms);
      });
    },
    send(line) { if (child.exitCode === null) child.stdin.write(line + '\n'); },
  };
}

// What the page shows and receives now.
async function view(page) {
  const s = await page.evaluate(() => window.sfuPage.snapshot());
  const videoMids = Object.values(s.mids).filter((t) => t.kind === 'video' && t.participant);
  return {
    s,
    shown: s.shown,
    subscribed: (s.subscribed?.video || []),
    receiving: videoMids.map((t) => t.participant),
    slotMids: Object.values(s.mids).filter((t) => t.kind === 'audio' && 'slot' in t).length,
    pictures: s.tiles.filter((t) => t.video).map((t) => t.participant),
    frames: Object.fromEntries(s.tiles.map((t) => [t.participant, t.totals.frames])),
  };
}

const sameSet = (a, b) => a.length === b.length && a.every((x) => b.includes(x));

/** Polls until the page shows `n` pictures, subscribes to them, and its offers carry them. */
async function settle(page, n, o) {
  const t0 = Date.now();
  let v;
  while (Date.now() - t0 < o.timeoutMs) {
    v = await view(page);
    const subs = v.subscribed.map((e) => e.participant);
    if (v.shown.length === n && sameSet(subs, v.shown) && sameSet(v.receiving, v.shown)
        && sameSet(v.pictures, v.shown)) break;
    await sleep(300);
  }
  return { v, took: Date.now() - t0 };
}

async function checkDecoding(page, label, checks) {
  const a = await view(page);
  await sleep(3000);
  const b = await view(page);
  const stalled = b.shown.filter((id) => !(b.frames[id] > (a.frames[id] || 0)));
  checks.check(`${label}: the ${b.shown.length} pictures decode (frames rising over 3 s)`, !stalled.length,
    stalled.length ? `stalled: ${stalled.join(', ')}` : b.shown.map((id) => `${id}:+${b.frames[id] - (a.frames[id] || 0)}`).join(' '));
  const others = Object.keys(b.frames).filter((id) => !b.shown.includes(id));
  checks.check(`${label}: the ${others.length} others receive no video`,
    others.every((id) => !b.pictures.includes(id) && !b.receiving.includes(id)),
    `pictures ${b.pictures.length}, video m-lines ${b.receiving.length}`);
}

async function main() {
  const o = options();
  const checks = new Checks();
  const dir = mkdtempSync(join(tmpdir(), 'sfu-bigcall-'));
  const pubs = startPublishers(o);
  let context;
  const body = async () => {
    const m = await pubs.expect('published', 60000);
    const ids = Object.values(m?.ids || {});
    if (!checks.check(`${o.npub} publishers publish (WHIP 201) and connect`, m && m.failed === 0 && ids.length === o.npub,
      JSON.stringify(m)?.slice(0, 300))) return;

    context = await chromium.launchPersistentContext(mkdtempSync(join(dir, 'profile-')), {
      executablePath: o.chromium, headless: true, args: CHROMIUM_ARGS,
      permissions: ['camera', 'microphone'], viewport: { width: 1280, height: 720 },
    });
    const page = context.pages()[0] || await context.newPage();
    const problems = [];
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${o.url}/`);
    await page.fill('#name', 'Ada');
    await page.fill('#room', o.room);
    const res = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().includes('/join'),
      { timeout: o.timeoutMs }).catch(() => null);
    await page.click('#join');
    const r = await res;
    if (!checks.check('join 201 with a subscriptions Link', r?.status() === 201
        && (r.headers().link || '').includes('urn:x-sfu:subscriptions'), `status ${r?.status()}`)) return;

    // Grid: nine pictures of eleven.
    const grid = await settle(page, Math.min(MAX_VIDEO_TILES, o.npub), o);
    const g = grid.v;
    checks.check(`grid: a tile for each of the ${o.npub} others`, g.s.tiles.length === o.npub, `${g.s.tiles.length} tiles`);
    checks.check(`grid: ${MAX_VIDEO_TILES} pictures shown, subscribed and received (settled in ${grid.took} ms)`,
      g.shown.length === MAX_VIDEO_TILES && sameSet(g.subscribed.map((e) => e.participant), g.shown)
      && sameSet(g.receiving, g.shown) && sameSet(g.pictures, g.shown),
      `shown ${g.shown.length}, subscribed ${g.subscribed.length}, video m-lines ${g.receiving.length}, pictures ${g.pictures.length}`);
    checks.check('grid: every subscribed tile has a height', g.subscribed.every((e) => e.maxHeight > 0),
      JSON.stringify(g.subscribed.map((e) => e.maxHeight)));
    checks.check(`grid: audio on ${SLOTS} slot m-lines`, g.slotMids === SLOTS && g.s.slots.length === SLOTS,
      `${g.slotMids} slot m-lines in the offer, ${g.s.slots.length} playing`);
    checks.check('grid: the active speaker, if any, has the first picture',
      !g.s.speaker || g.shown[0] === g.s.speaker, `speaker ${g.s.speaker}, first ${g.shown[0]}`);
    await checkDecoding(page, 'grid', checks);

    // Speaker view: one big picture and a strip.
    await page.click('#view');
    const spk = await settle(page, Math.min(1 + MAX_STRIP_TILES, o.npub), o);
    const sv = spk.v;
    checks.check(`speaker view: ${1 + MAX_STRIP_TILES} pictures shown, subscribed and received (settled in ${spk.took} ms)`,
      sv.s.view === 'speaker' && sv.shown.length === 1 + MAX_STRIP_TILES
      && sameSet(sv.subscribed.map((e) => e.participant), sv.shown) && sameSet(sv.receiving, sv.shown),
      `view ${sv.s.view}, shown ${sv.shown.length}, subscribed ${sv.subscribed.length}, video m-lines ${sv.receiving.length}`);
    const big = sv.subscribed.find((e) => e.participant === sv.shown[0]);
    const strip = sv.subscribed.filter((e) => e.participant !== sv.shown[0]);
    checks.check('speaker view: the big picture asks for more height than the strip',
      big && strip.length && strip.every((e) => big.maxHeight > e.maxHeight),
      `big ${big?.maxHeight}, strip ${JSON.stringify(strip.map((e) => e.maxHeight))}`);
    await checkDecoding(page, 'speaker view', checks);
    if (o.screenshot) await page.screenshot({ path: o.screenshot });
    checks.check('no page errors', !problems.length, problems.slice(0, 3).join(' | '));

    const del = page.waitForResponse((x) => x.request().method() === 'DELETE', { timeout: 10000 }).catch(() => null);
    await page.click('#leave');
    checks.check('Leave: DELETE 200', (await del)?.status() === 200);
  };
  try {
    await body();
  } finally {
    await context?.close().catch(() => {});
    pubs.send('leave');
    const d = await pubs.expect('deleted', 30000);
    checks.check(`all ${o.npub} publishers DELETE 200`,
      (d?.statuses || []).filter((s) => s === 200).length === o.npub, JSON.stringify(d?.statuses));
    let st = 0;
    for (let i = 0; i < 25; i++) {
      st = (await fetch(`${o.url}/rooms/${encodeURIComponent(o.room)}`).catch(() => ({ status: 0 }))).status;
      if (st === 404) break;
      await sleep(200);
    }
    checks.check('room gone after everyone left (404)', st === 404, `status ${st}`);
    pubs.child.stdin.end();
    if (pubs.child.exitCode === null) pubs.child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
  return checks.summary();
}

main().then((code) => process.exit(code), (e) => { console.error(e); process.exit(1); });
