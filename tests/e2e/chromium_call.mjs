#!/usr/bin/env node
// The call page (web/) in headless Chromium with three participants, each in
// its own browser whose fake camera plays a small generated clip of its own
// colour (so a tile can be checked to show the right person):
//   - all three join the same room from the page (name, room, Join);
//   - each page shows two remote tiles, named right, decoding video
//     (framesDecoded rising), audio packets arriving, showing the sender's
//     colour, stats overlay filled; the offers' mid map agrees with msid;
//   - mute/unmute microphone and camera on one page;
//   - one leaves (Leave button): the other two drop its tile within 2 s;
//     it joins again and reappears on both, decoding again;
//   - some tile gets the active-speaker highlight at some point (the fake
//     microphone beeps), or a printed reason why not;
//   - a screenshot of one participant's page; everyone leaves, the room is gone.
//
//   node tests/e2e/chromium_call.mjs --url http://127.0.0.1:PORT [--screenshot FILE]
//       [--screenshot-mobile FILE] [--room NAME] [--chromium PATH]
//       [--page-urls URL1,URL2,URL3]   participant i opens the page at URL i (cluster
//                                       nodes: joins on the others are redirected)
// Prints one PASS/FAIL line per check, then "N passed, M failed"; exit 0 only
// when all passed. Needs Debian chromium and `npm ci` here.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, Checks, sleep } from './chromium_lib.mjs';


// Name, clip colour (RGB) and microphone of each participant: Grace talks
// (tone bursts, like syllables), the others are silent, so the active
// speaker is known.
const PEOPLE = [
  { name: 'Ada', rgb: [38, 140, 160], talks: false },     // teal
  { name: 'Grace', rgb: [215, 120, 40], talks: true },    // orange
  { name: 'Linus', rgb: [120, 80, 190], talks: false },   // purple
];
const W = 320, H = 180, FPS = 15, FRAMES = 45;

function options() {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      'page-urls': { type: 'string' },
      room: { type: 'string' },
      screenshot: { type: 'string' },
      'screenshot-mobile': { type: 'string' },
      chromium: { type: 'string', default: '/usr/bin/chromium' },
      timeout: { type: 'string', default: '20' },
    },
  });
  if (!values.url) {
    console.error('usage: chromium_call.mjs --url http://127.0.0.1:PORT [--screenshot FILE]');
    process.exit(2);
  }
  values.url = values.url.replace(/\/+$/, '');
  // Participant i opens the page at pageUrls[i % n] (cluster nodes); default --url.
  values.pageUrls = (values['page-urls'] || values.url).split(',').map((u) => u.replace(/\/+$/, ''));
  values.room ??= 'call-' + Math.random().toString(16).slice(2, 10);
  values.timeoutMs = Number(values.timeout) * 1000;
  return values;
}


/* ---------- the fake camera's clip ---------- */

// BT.601 full range, as the C420jpeg colour space says.
function yuv([r, g, b]) {
  const y = 0.299 * r + 0.587 * g + 0.114 * b;
  const clamp = (v) => Math.max(0, Math.min(255, Math.round(v)));
  return [clamp(y), clamp(128 + (b - y) * 0.564), clamp(128 + (r - y) * 0.713)];
}

// A loop of FRAMES frames: the colour, darker towards the bottom, with a
// light bar sweeping across the lower third. The top right stays plain, for
// the colour check.
function makeY4m(rgb) {
  const [y0, u0, v0] = yuv(rgb);
  const ySize = W * H, cSize = (W / 2) * (H / 2);
  const header = Buffer.from(`YUV4MPEG2 W${W} H${H} F${FPS}:1 Ip A1:1 C420jpeg\n`);
  const parts = [header];
  for (let f = 0; f < FRAMES; f++) {
    const frame = Buffer.alloc(6 + ySize + 2 * cSize);
    frame.write('FRAME\n');
    const Y = frame.subarray(6, 6 + ySize);
    const U = frame.subarray(6 + ySize, 6 + ySize + cSize);
    const V = frame.subarray(6 + ySize + cSize);
    const barX = Math.round((W - 40) * (0.5 - 0.5 * Math.cos((2 * Math.PI * f) / FRAMES)));
    for (let y = 0; y < H; y++) {
      const shade = y < H / 2 ? 1 : 1 - 0.35 * ((y - H / 2) / (H / 2));
      for (let x = 0; x < W; x++) {
        const bar = y > H * 0.62 && y < H * 0.8 && x >= barX && x < barX + 40;
        Y[y * W + x] = bar ? 235 : Math.round(y0 * shade);
      }
    }
    U.fill(u0);
    V.fill(v0);
    for (let y = Math.floor(H * 0.62 / 2); y < Math.ceil(H * 0.8 / 2); y++) {
      for (let x = barX / 2; x < (barX + 40) / 2; x++) {
        U[y * (W / 2) + Math.floor(x)] = 128;
        V[y * (W / 2) + Math.floor(x)] = 128;
      }
    }
    parts.push(frame);
  }
  return Buffer.concat(parts);
}

// The fake microphone's loop: 2 s of 48 kHz mono 16-bit PCM. Talking: a
// 300 Hz tone at -10 dBFS in 220 ms bursts with 80 ms gaps (a steady tone
// would be taken for noise by the browser's noise suppression); else silence.
function makeWav(talks) {
  const rate = 48000, n = rate * 2;
  const buf = Buffer.alloc(44 + 2 * n);
  buf.write('RIFF', 0); buf.writeUInt32LE(36 + 2 * n, 4); buf.write('WAVE', 8);
  buf.write('fmt ', 12); buf.writeUInt32LE(16, 16); buf.writeUInt16LE(1, 20); buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(rate, 24); buf.writeUInt32LE(rate * 2, 28); buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34); buf.write('data', 36); buf.writeUInt32LE(2 * n, 40);
  for (let i = 0; talks && i < n; i++) {
    const on = (i % (0.3 * rate)) < 0.22 * rate;
    const v = on ? 0.32 * Math.sin((2 * Math.PI * 300 * i) / rate) : 0;
    buf.writeInt16LE(Math.round(v * 32767), 44 + 2 * i);
  }
  return buf;
}

/* ---------- driving one participant's page ---------- */

class Person {
  constructor(spec, index) {
    Object.assign(this, spec);
    this.index = index;
    this.problems = [];
  }

  async launch(o, dir) {
    const clip = join(dir, `cam${this.index}.y4m`);
    writeFileSync(clip, makeY4m(this.rgb));
    const mic = join(dir, `mic${this.index}.wav`);
    writeFileSync(mic, makeWav(this.talks));
    this.profile = mkdtempSync(join(dir, 'profile-'));
    this.context = await chromium.launchPersistentContext(this.profile, {
      executablePath: o.chromium, headless: true,
      args: [...CHROMIUM_ARGS, `--use-file-for-fake-video-capture=${clip}`,
        `--use-file-for-fake-audio-capture=${mic}`],
      permissions: ['camera', 'microphone'], viewport: { width: 1280, height: 720 },
    });
    this.page = this.context.pages()[0] || await this.context.newPage();
    this.page.on('pageerror', (e) => this.problems.push(`${this.name}: ${e.message}`));
    this.page.on('console', (m) => {
      // Chromium logs every non-2xx fetch as "Failed to load resource".
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) {
        this.problems.push(`${this.name}: ${m.text()}`);
      }
    });
    await this.page.goto(`${o.pageUrls[this.index % o.pageUrls.length]}/`);
    // Remember whether any tile ever gets the speaker highlight.
    await this.page.evaluate(() => {
      window.__spoke = '';
      new MutationObserver(() => {
        const t = document.querySelector('.tile.speaking');
        if (t && !window.__spoke) window.__spoke = t.dataset.participant || 'self';
      }).observe(document.getElementById('grid'),
        { attributes: true, childList: true, subtree: true, attributeFilter: ['class'] });
    });
  }

  /** Fills the form and clicks Join; resolves to the join POST's status. */
  async join(o) {
    const p = this.page;
    await p.fill('#name', this.name);
    await p.fill('#room', o.room);
    // On a cluster node the first answer may be a 307 to the room's node,
    // which the page's fetch follows: wait for the final one.
    const res = p.waitForResponse((r) => r.request().method() === 'POST' && r.url().includes('/join')
      && r.status() !== 307, { timeout: o.timeoutMs }).catch(() => null);
    await p.click('#join');
    const r = await res;
    this.id = '';
    if (r?.status() === 201) {
      this.id = r.headers()['x-participant-id'] || '';
      this.answer = await r.text().catch(() => '');
    }
    return r?.status();
  }

  snapshot() { return this.page.evaluate(() => window.sfuPage.snapshot()); }

  async waitConnected(o) {
    const t0 = Date.now();
    while (Date.now() - t0 < o.timeoutMs) {
      const s = await this.snapshot();
      if (s.connectionState === 'connected' || s.connectionState === 'failed') return s.connectionState;
      await sleep(200);
    }
    return 'timeout';
  }

  /** Waits until tiles for `others` exist and show video; returns the snapshot. */
  async waitTiles(others, o) {
    const t0 = Date.now();
    let s;
    while (Date.now() - t0 < o.timeoutMs) {
      s = await this.snapshot();
      const ok = others.every((x) => s.tiles.some((t) => t.participant === x.id && t.video));
      if (ok && s.tiles.length === others.length) return s;
      await sleep(250);
    }
    return s;
  }

  // Mean RGB of the top-right region of a remote tile's video (plain colour).
  tileColour(id) {
    return this.page.evaluate((pid) => {
      const v = document.querySelector(`.tile[data-participant="${pid}"] video`);
      if (!v || !v.videoWidth) return null;
      const c = document.createElement('canvas');
      c.width = v.videoWidth;
      c.height = v.videoHeight;
      const g = c.getContext('2d');
      g.drawImage(v, 0, 0);
      const w = Math.floor(c.width / 4), h = Math.floor(c.height / 4);
      const d = g.getImageData(c.width - w - 4, 4, w, h).data;
      const sum = [0, 0, 0];
      for (let i = 0; i < d.length; i += 4) for (let k = 0; k < 3; k++) sum[k] += d[i + k];
      return sum.map((x) => Math.round(x / (d.length / 4)));
    }, id);
  }

  async close() {
    await this.context?.close().catch(() => {});
    rmSync(this.profile, { recursive: true, force: true });
  }
}

/* ---------- checks ---------- */

// Two snapshots of every page 3 s apart (one window for all pages), then
// each page's checks: every other participant's tile decodes video and
// receives audio, shows the right name and colour, and has a stats overlay.
async function checkMediaAll(people, checks, label) {
  const a = await Promise.all(people.map((p) => p.snapshot()));
  await sleep(3000);
  const b = await Promise.all(people.map((p) => p.snapshot()));
  for (const [i, p] of people.entries()) {
    await checkMedia(p, people.filter((x) => x !== p), a[i], b[i], checks, label);
  }
}

async function checkMedia(me, others, a, b, checks, label) {
  for (const x of others) {
    const ta = a.tiles.find((t) => t.participant === x.id);
    const tb = b.tiles.find((t) => t.participant === x.id);
    if (!checks.check(`${label}: ${me.name} has a tile for ${x.name}`, !!ta && !!tb,
      `tiles ${b.tiles.map((t) => t.name).join(', ')}`)) continue;
    checks.check(`${label}: ${me.name} shows ${x.name}'s name`, tb.name === x.name, JSON.stringify(tb.name));
    const frames = tb.totals.frames - ta.totals.frames;
    const audio = tb.totals.audioPackets - ta.totals.audioPackets;
    checks.check(`${label}: ${me.name} decodes ${x.name}'s video`, frames >= 20,
      `framesDecoded +${frames} in 3 s`);
    checks.check(`${label}: ${me.name} gets ${x.name}'s audio`, audio >= 75 && tb.kinds.includes('audio'),
      `audio packets +${audio} in 3 s, tracks ${tb.kinds.join('+')}`);
    const got = await me.tileColour(x.id);
    const near = got && got.every((v, k) => Math.abs(v - x.rgb[k]) <= 45);
    checks.check(`${label}: ${me.name}'s tile for ${x.name} shows ${x.name}'s camera`, !!near,
      `rgb ${JSON.stringify(got)}, clip ${JSON.stringify(x.rgb)}`);
  }
  const overlay = await me.page.evaluate(() => [...document.querySelectorAll('.tile:not(.self) .stats')]
    .map((s) => ['bitrate', 'loss', 'rtt'].map((k) => s.querySelector('.s-' + k).textContent).join(' | ')));
  checks.check(`${label}: ${me.name}'s stats overlays filled`, overlay.length === others.length
    && overlay.every((t) => /bit\/s/.test(t) && /%/.test(t) && /ms/.test(t)), overlay.join(' ; '));
  const bad = Object.entries(b.mids).filter(([mid, info]) => b.msids[mid] && b.msids[mid] !== info.participant);
  checks.check(`${label}: ${me.name}'s offer tracks map agrees with msid`, bad.length === 0,
    bad.length ? JSON.stringify(bad) : `${Object.keys(b.mids).length} mids`);
}

async function checkToggles(p, checks) {
  for (const [btn, cls, kind] of [['#mic', 'mic-off', 'audio'], ['#cam', 'no-video', 'video']]) {
    const look = () => p.page.evaluate(([b, c, k]) => [
      document.querySelector(b).getAttribute('aria-pressed'),
      document.querySelector('.tile.self').classList.contains(c),
      document.querySelector('.tile.self video').srcObject.getTracks()
        .filter((t) => t.kind === k).every((t) => !t.enabled)].join(','), [btn, cls, kind]);
    await p.page.click(btn);
    const on = await look();
    await p.page.click(btn);
    const off = await look();
    checks.check(`${btn.slice(1)} mute toggles`, on === 'true,true,true' && off === 'false,false,false',
      `pressed,tile,disabled: ${on} then ${off}`);
  }
}

async function leaveAndRejoin(o, people, checks) {
  const [a, b, c] = people;
  const del = c.page.waitForResponse((r) => r.request().method() === 'DELETE', { timeout: 5000 })
    .catch(() => null);
  const t0 = Date.now();
  await c.page.click('#leave');
  const gone = await Promise.all([a, b].map((p) => p.page.waitForSelector(
    `.tile[data-participant="${c.id}"]`, { state: 'detached', timeout: 5000 })
    .then(() => Date.now() - t0, () => null)));
  const res = await del;
  checks.check(`Leave: ${c.name}'s DELETE 200`, res?.status() === 200, `status ${res?.status()}`);
  [a, b].forEach((p, i) => checks.check(`${p.name} drops ${c.name}'s tile within 2 s`,
    gone[i] !== null && gone[i] <= 2000, gone[i] === null ? 'still there after 5 s' : `${gone[i]} ms`));
  const back = await c.page.evaluate(() => !document.getElementById('join-view').hidden
    && document.getElementById('call-view').hidden && !document.querySelector('.tile'));
  checks.check(`${c.name} is back on the join form, no tiles left`, back);
  await sleep(1000);
  const oldId = c.id;
  const st = await c.join(o);
  checks.check(`${c.name} joins again: 201, new participant id`, st === 201 && !!c.id && c.id !== oldId,
    `status ${st}, id ${oldId} -> ${c.id}`);
  for (const p of [a, b]) {
    const s = await p.waitTiles([...people.filter((x) => x !== p)], o);
    checks.check(`${p.name} shows ${c.name} again`, s.tiles.some((t) => t.participant === c.id && t.video),
      `tiles ${s.tiles.map((t) => `${t.name}${t.video ? '' : ' (no video)'}`).join(', ')}`);
  }
  await c.waitTiles([a, b], o);
}

// Grace is the only one talking: some tile must get the highlight, and
// wherever one is highlighted it must be Grace's (her own tile on her page).
// The event is sent when the speaker changes and the snapshot does not carry
// the current one, so a page that joined after the change may show none.
async function checkSpeaker(people, checks) {
  const talker = people.find((p) => p.talks);
  const seen = [];
  for (const p of people) {
    const s = await p.snapshot();
    const lit = [...s.tiles.filter((t) => t.speaking).map((t) => t.participant),
      ...(s.self?.speaking ? [p.id] : [])];
    const first = await p.page.evaluate(() => window.__spoke);
    seen.push({ p, lit, first, events: s.speakerEvents });
  }
  const any = seen.filter((x) => x.first || x.lit.length);
  const detail = seen.map((x) => `${x.p.name}: ${x.events} events, lit now [${x.lit.join(',')}]`).join('; ');
  if (!checks.check('active speaker highlighted on some tile', any.length > 0, detail)) {
    const level = /urn:ietf:params:rtp-hdrext:ssrc-audio-level/.test(people[0].answer || '');
    console.log(`INFO the join answer ${level ? 'negotiates' : 'does not negotiate'} the RFC 6464 audio-level extension`);
    return;
  }
  const wrong = seen.filter((x) => x.lit.some((id) => id !== talker.id));
  checks.check(`the highlight is on ${talker.name}, the one talking`, wrong.length === 0 && seen.some((x) => x.lit.includes(talker.id)),
    `${talker.name} is ${talker.id}; ${detail}`);
  for (const x of seen.filter((y) => !y.lit.length)) {
    console.log(`INFO ${x.p.name}'s page shows no speaker: it joined after the last active-speaker event`);
  }
}

async function screenshots(p, o) {
  if (o.screenshot) {
    await p.page.screenshot({ path: o.screenshot });
    console.log(`INFO screenshot of ${p.name}'s page: ${o.screenshot}`);
  }
  if (o['screenshot-mobile']) {
    const size = p.page.viewportSize();
    await p.page.setViewportSize({ width: 390, height: 844 });
    await sleep(600);
    await p.page.screenshot({ path: o['screenshot-mobile'] });
    await p.page.setViewportSize(size);
    console.log(`INFO phone-size screenshot of ${p.name}'s page: ${o['screenshot-mobile']}`);
  }
}

async function run(o, people, checks) {
  for (const p of people) {
    const st = await p.join(o);
    checks.check(`${p.name} joins: 201 with a participant id`, st === 201 && !!p.id, `status ${st}, id ${p.id}`);
  }
  if (people.some((p) => !p.id)) return;
  const states = await Promise.all(people.map((p) => p.waitConnected(o)));
  people.forEach((p, i) => checks.check(`${p.name} connected`, states[i] === 'connected', states[i]));
  for (const p of people) await p.waitTiles(people.filter((x) => x !== p), o);
  await sleep(1500);   // past the first key frames and the first stats sample
  await checkMediaAll(people, checks, 'all three');
  await checkToggles(people[0], checks);
  await leaveAndRejoin(o, people, checks);
  await sleep(1500);
  await checkMediaAll(people, checks, 'after rejoin');

  await checkSpeaker(people, checks);
  await screenshots(people[0], o);

  for (const p of people) {
    const del = p.page.waitForResponse((r) => r.request().method() === 'DELETE', { timeout: 5000 })
      .catch(() => null);
    await p.page.click('#leave');
    const r = await del;
    checks.check(`${p.name} leaves: DELETE 200`, r?.status() === 200, `status ${r?.status()}`);
  }
  let st = 0;
  for (let i = 0; i < 15 && st !== 404; i++) {
    await sleep(200);
    st = (await fetch(`${o.url}/rooms/${encodeURIComponent(o.room)}`)).status;
  }
  checks.check('room gone after everyone left (404)', st === 404, `status ${st}`);
}

async function main() {
  const o = options();
  const checks = new Checks();
  console.log(`INFO room ${o.room}, page ${o.url}/, fake cameras ${W}x${H} @ ${FPS} fps`);
  const dir = mkdtempSync(join(tmpdir(), 'e2e-call-'));
  const people = PEOPLE.map((spec, i) => new Person(spec, i));
  try {
    await Promise.all(people.map((p) => p.launch(o, dir)));
    await run(o, people, checks);
  } catch (e) {
    checks.check('run without exceptions', false, e.stack || String(e));
    if (o.screenshot && people[0].page) await people[0].page.screenshot({ path: o.screenshot }).catch(() => {});
  } finally {
    const problems = people.flatMap((p) => p.problems);
    checks.check('no page errors or console errors', problems.length === 0, problems.slice(0, 5).join('; '));
    await Promise.all(people.map((p) => p.close()));
    rmSync(dir, { recursive: true, force: true });
  }
  process.exitCode = checks.summary();
}

main();
