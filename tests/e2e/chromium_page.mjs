#!/usr/bin/env node
// The call page (web/) in headless Chromium, driven as a user would drive it:
// page A enters a room and publishes its fake camera+mic; page B enters the
// same room, sees A in the participant list, clicks Watch and must get a
// playing picture and sound; then Close, Stop, and B's list empties again.
//
//   node tests/e2e/chromium_page.mjs --url http://127.0.0.1:PORT [--screenshot out.png]
//       the SFU serves the page itself (GET / and /static/...)
//   node tests/e2e/chromium_page.mjs --url http://127.0.0.1:PORT --serve-web
//       this script serves web/ the same way on another port and passes
//       ?api=URL, for when the SFU under test has no static files
//
// Other options: --screenshot-mobile FILE (page B at phone size),
// (dark theme), --screenshot-publisher FILE, --room NAME, --chromium PATH, --web DIR.
// Prints one PASS/FAIL line per check, then "N passed, M failed"; exit 0
// only when all passed. Needs Debian chromium and `npm ci` here.

import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, Checks, sleep } from './chromium_lib.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));

function options() {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      'serve-web': { type: 'boolean', default: false },
      web: { type: 'string', default: resolve(HERE, '../../web') },
      room: { type: 'string' },
      name: { type: 'string', default: 'Ada' },
      screenshot: { type: 'string' },
      'screenshot-mobile': { type: 'string' },
      'screenshot-publisher': { type: 'string' },
      chromium: { type: 'string', default: '/usr/bin/chromium' },
      timeout: { type: 'string', default: '15' },
    },
  });
  if (!values.url) {
    console.error('usage: chromium_page.mjs --url http://127.0.0.1:PORT [--serve-web]'
                  + ' [--screenshot FILE] [--screenshot-mobile FILE] [--room NAME]');
    process.exit(2);
  }
  values.url = values.url.replace(/\/+$/, '');
  values.room ??= 'page-' + Math.random().toString(16).slice(2, 10);
  values.timeoutMs = Number(values.timeout) * 1000;
  return values;
}

// --serve-web: the SFU's mapping (/ -> index.html, /static/P -> web/P).
function serveWeb(dir) {
  const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
                  '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml' };
  const root = resolve(dir);
  const server = createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    const rel = path === '/' ? 'index.html' : path.startsWith('/static/') ? path.slice(8) : null;
    const file = rel && normalize(join(root, rel));
    try {
      if (!file || !file.startsWith(root + sep) || !statSync(file).isFile()) throw new Error();
      res.writeHead(200, { 'Content-Type': types[extname(file)] || 'application/octet-stream' });
      res.end(readFileSync(file));
    } catch {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found\n');
    }
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(server)));
}


// Console errors, page errors and CSP violations, per page.
function watchProblems(page, label, problems) {
  page.on('pageerror', (e) => problems.push(`${label}: ${e.message}`));
  page.on('console', (m) => {
    // The page logs user-facing errors with console.warn; errors are bugs.
    // Chromium also logs every non-2xx fetch ("Failed to load resource"):
    // expected ones here (404 for an empty room, the test's own 503).
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) {
      problems.push(`${label}: ${m.text()}`);
    }
  });
}

async function enterRoom(page, o, name) {
  await page.fill('#room', o.room);
  await page.fill('#name', name);
  await page.click('#enter');
  await page.waitForSelector('#room-view:not([hidden])', { timeout: 5000 });
}

// The viewer's <video> and decoder figures, read in the page.
const viewerFacts = (page, id) => page.evaluate((pid) => {
  const v = document.querySelector(`.tile[data-kind="viewer"][data-participant="${pid}"] video`);
  const s = window.sfuPage.snapshot().viewers.find((x) => x.participant === pid)?.stats || {};
  return { width: v?.videoWidth || 0, time: v?.currentTime || 0, paused: v ? v.paused : true,
           frames: s.framesDecoded || 0, audio: s.audioPackets || 0 };
}, id);

// An error the server gives must reach the user with its status and reason:
// the WHIP POST is answered 503 by the test, the page must say so.
async function checkErrorShown(page, checks) {
  const reason = 'out of capacity: sessions';
  await page.route('**/whip/**', (route) => route.fulfill({
    status: 503, contentType: 'text/plain', body: reason + '\n',
    headers: { 'Access-Control-Allow-Origin': '*', 'Retry-After': '1' } }));
  await page.click('#publish');
  const alert = await page.waitForSelector('.alert .alert-text', { timeout: 10000 }).catch(() => null);
  const text = alert ? (await alert.textContent()) : '';
  checks.check('server error shown with status and reason', text.includes('503') && text.includes(reason),
    JSON.stringify(text.slice(0, 160)));
  await page.unroute('**/whip/**');
  const idle = await page.evaluate(() => !document.querySelector('.tile[data-kind="self"]')
    && !document.querySelector('#publish').disabled && !window.sfuPage.snapshot().publisher);
  checks.check('failed publish leaves nothing behind', idle);
  await page.click('.alert button');
}

async function publish(pub, o, checks) {
  const whip = pub.waitForResponse((r) => r.request().method() === 'POST' && r.url().includes('/whip/'),
    { timeout: o.timeoutMs });
  await enterRoom(pub, o, o.name);
  await pub.click('#publish');
  const res = await whip.catch(() => null);
  if (!checks.check('WHIP POST 201 from the page', res?.status() === 201,
    `status ${res?.status()}`)) return null;
  const tile = await pub.waitForSelector('.tile[data-kind="self"][data-state="connected"]',
    { timeout: o.timeoutMs }).catch(() => null);
  checks.check('publisher tile connected', !!tile);
  const id = await pub.evaluate(() => window.sfuPage.snapshot().publisher?.participant);
  checks.check('publisher has a participant id', !!id, `id ${id}`);
  // Mute and unmute microphone and camera: the button is pressed, the tile
  // says so, and the track is disabled (it then sends silence / black).
  for (const [btn, cls, kind] of [['#mute-mic', 'mic-off', 'audio'], ['#mute-cam', 'cam-off', 'video']]) {
    const look = () => pub.evaluate(([b, c, k]) => [
      document.querySelector(b).getAttribute('aria-pressed'),
      document.querySelector('.tile[data-kind="self"]').classList.contains(c),
      document.querySelector('.tile[data-kind="self"] video').srcObject.getTracks()
        .filter((t) => t.kind === k).every((t) => !t.enabled)].join(','), [btn, cls, kind]);
    await pub.click(btn);
    const on = await look();
    await pub.click(btn);
    const off = await look();
    checks.check(`${btn.slice(1)} toggles`, on === 'true,true,true' && off === 'false,false,false',
      `pressed,tile,disabled: ${on} then ${off}`);
  }
  return id;
}

async function watch(view, o, id, checks) {
  await enterRoom(view, o, 'Grace');
  await checkErrorShown(view, checks);
  const row = `#people li[data-participant="${id}"]`;
  const li = await view.waitForSelector(row, { timeout: 6000 }).catch(() => null);
  if (!checks.check('participant appears in the list', !!li)) return false;
  // The display name, or "Guest <id>" while the SFU takes no name for WHIP.
  const label = await li.textContent();
  checks.check('participant listed by name', label.includes(o.name) || label.includes('Guest ' + id.slice(0, 6)),
    JSON.stringify(label));
  const whep = view.waitForResponse((r) => r.request().method() === 'POST' && r.url().includes('/whep/'),
    { timeout: o.timeoutMs });
  await view.click(`${row} button.watch`);
  const res = await whep.catch(() => null);
  checks.check('WHEP POST 201 from the page', res?.status() === 201, `status ${res?.status()}`);
  const tile = await view.waitForSelector(
    `.tile[data-kind="viewer"][data-participant="${id}"][data-state="connected"]`,
    { timeout: o.timeoutMs }).catch(() => null);
  if (!checks.check('viewer tile connected', !!tile)) return false;
  await sleep(1500);               // past the first keyframe and jitter buffer
  const a = await viewerFacts(view, id);
  await sleep(2500);
  const b = await viewerFacts(view, id);
  checks.check('viewer video has a picture', b.width > 0, `videoWidth ${b.width}`);
  checks.check('viewer video playing', !b.paused && b.time - a.time > 1.5,
    `currentTime ${a.time.toFixed(2)} -> ${b.time.toFixed(2)}`);
  checks.check('framesDecoded rising', b.frames - a.frames >= 20, `${a.frames} -> ${b.frames}`);
  checks.check('audio packets arriving', b.audio - a.audio >= 50, `${a.audio} -> ${b.audio}`);
  const overlay = await view.evaluate((pid) => {
    const t = document.querySelector(`.tile[data-kind="viewer"][data-participant="${pid}"]`);
    return ['bitrate', 'loss', 'rtt', 'video'].map((k) => t.querySelector('.s-' + k).textContent);
  }, id);
  checks.check('stats overlay filled', /bit\/s/.test(overlay[0]) && /%/.test(overlay[1])
    && /ms/.test(overlay[2]) && /×/.test(overlay[3]), overlay.join(' | '));
  return true;
}

async function screenshots(pub, view, o) {
  if (o.screenshot) {
    await view.screenshot({ path: o.screenshot });
    console.log(`INFO screenshot of the watching page: ${o.screenshot}`);
  }
  if (o['screenshot-publisher']) {
    await pub.screenshot({ path: o['screenshot-publisher'] });
    console.log(`INFO screenshot of the publishing page: ${o['screenshot-publisher']}`);
  }
  if (o['screenshot-mobile']) {
    const size = view.viewportSize();
    // Phone size, and the dark theme (the laptop shot above is light).
    await view.setViewportSize({ width: 390, height: 844 });
    await view.emulateMedia({ colorScheme: 'dark' });
    await sleep(300);
    await view.screenshot({ path: o['screenshot-mobile'], fullPage: true });
    await view.setViewportSize(size);
    await view.emulateMedia({ colorScheme: 'light' });
    console.log(`INFO phone-size screenshot: ${o['screenshot-mobile']}`);
  }
}

// Close the viewer, then stop publishing: each a DELETE 200, and B's list
// must notice that A left.
async function teardown(pub, view, o, id, checks) {
  const del = (page) => page.waitForResponse((r) => r.request().method() === 'DELETE'
    && r.url().includes('/sessions/'), { timeout: 5000 }).catch(() => null);
  let wait = del(view);
  await view.click(`.tile[data-kind="viewer"][data-participant="${id}"] .tile-close`);
  let res = await wait;
  checks.check('Close: viewer DELETE 200', res?.status() === 200, `status ${res?.status()}`);
  const gone = await view.evaluate((pid) => !document.querySelector(`.tile[data-participant="${pid}"]`)
    && !document.querySelector(`#people li[data-participant="${pid}"] button`)?.disabled, id);
  checks.check('viewer tile removed, Watch enabled again', gone);
  wait = del(pub);
  await pub.click('#stop');
  res = await wait;
  checks.check('Stop: publisher DELETE 200', res?.status() === 200, `status ${res?.status()}`);
  const left = await view.waitForSelector(`#people li[data-participant="${id}"]`,
    { state: 'detached', timeout: 6000 }).then(() => true, () => false);
  checks.check('participant leaves the list', left);
}

async function run(o, context, pageUrl, checks) {
  const problems = [];
  const pub = await context.newPage();
  const view = await context.newPage();
  watchProblems(pub, 'publisher', problems);
  watchProblems(view, 'viewer', problems);
  await Promise.all([pub.goto(pageUrl), view.goto(pageUrl)]);
  const id = await publish(pub, o, checks);
  if (id && await watch(view, o, id, checks)) {
    await screenshots(pub, view, o);
    await teardown(pub, view, o, id, checks);
  } else if (o.screenshot) {
    await view.screenshot({ path: o.screenshot });   // what the user saw when it failed
  }
  checks.check('no page errors or console errors', problems.length === 0, problems.join('; '));
}

async function main() {
  const o = options();
  const checks = new Checks();
  let server = null;
  let pageUrl = `${o.url}/static/broadcast.html`;
  if (o['serve-web']) {
    server = await serveWeb(o.web);
    pageUrl = `http://127.0.0.1:${server.address().port}/broadcast.html?api=${encodeURIComponent(o.url)}`;
  }
  console.log(`INFO room ${o.room}, page ${pageUrl}`);
  const userDataDir = mkdtempSync(join(tmpdir(), 'e2e-page-'));
  let context = null;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: o.chromium, headless: true, args: CHROMIUM_ARGS,
      permissions: ['camera', 'microphone'], viewport: { width: 1280, height: 800 },
    });
    await run(o, context, pageUrl, checks);
  } catch (e) {
    checks.check('run without exceptions', false, e.stack || String(e));
  } finally {
    if (context) await context.close().catch(() => {});
    server?.close();
    rmSync(userDataDir, { recursive: true, force: true });
  }
  process.exitCode = checks.summary();
}

main();
