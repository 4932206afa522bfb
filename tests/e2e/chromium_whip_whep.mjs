#!/usr/bin/env node
// Headless Chromium publishes its fake camera+mic over WHIP and a second page
// watches over WHEP; the figures a user would notice come from getStats().
//
//   node tests/e2e/chromium_whip_whep.mjs --url http://127.0.0.1:PORT [--screenshot out.png]
//   node tests/e2e/chromium_whip_whep.mjs --check-local [--screenshot out.png]   # no SFU
//
// Checks, one line each, then "N passed, M failed"; exit 0 only if all pass:
//   WHIP and WHEP POST -> 201 with Location and X-Participant-Id (read
//   through CORS, as a page on another origin would), both connect, the
//   viewer's framesDecoded rate >= --min-ratio of the publisher's
//   framesEncoded rate over the measuring window, audio packetsReceived > 0,
//   the viewer's <video> shows a picture, both transports use an AES-GCM
//   SRTP cipher, and DELETE of both sessions -> 200.
// --check-local connects the two pages directly (the node script carries
// the SDP), to check everything but the SFU.
//
// Needs: Debian chromium, `npm ci` here (PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1).

import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const CHROMIUM_ARGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--disable-features=WebRtcHideLocalIpsWithMdns,MediaRouter,DialMediaRouteProvider',
  '--autoplay-policy=no-user-gesture-required',
];
// Chromium reports the IANA profile name (RFC 7714 14.2).
const GCM_CIPHERS = ['SRTP_AEAD_AES_256_GCM', 'SRTP_AEAD_AES_128_GCM'];

// The test page: every WebRTC and fetch call runs in the browser, so CORS,
// getUserMedia and the browser's own ICE/DTLS/SRTP are what get tested.
const PAGE = `<!doctype html><meta charset="utf-8"><title>e2e</title>
<style>body{margin:0;background:#222;color:#eee;font:14px sans-serif}
video{width:640px;height:480px;background:#000;display:block}</style>
<div id="role">idle</div><video id="v" autoplay muted playsinline></video>
<script>
let pc = null;
const log = (s) => { document.getElementById('role').textContent = s; };
async function gathered(timeoutMs) {
  // Non-trickle: the whole candidate list goes in the one POST.
  if (pc.iceGatheringState === 'complete') return;
  await new Promise((resolve) => {
    const t = setTimeout(resolve, timeoutMs);
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') { clearTimeout(t); resolve(); }
    });
  });
}
async function publisherOffer() {
  log('publisher');
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  document.getElementById('v').srcObject = stream;
  pc = new RTCPeerConnection();
  for (const t of stream.getTracks()) pc.addTransceiver(t, { direction: 'sendonly', streams: [stream] });
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(5000);
  return pc.localDescription.sdp;
}
function watch() {
  pc = new RTCPeerConnection();
  pc.ontrack = (e) => {
    const v = document.getElementById('v');
    if (!v.srcObject) v.srcObject = new MediaStream();
    v.srcObject.addTrack(e.track);
  };
}
async function viewerOffer() {
  log('viewer'); watch();
  pc.addTransceiver('audio', { direction: 'recvonly' });
  pc.addTransceiver('video', { direction: 'recvonly' });
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(5000);
  return pc.localDescription.sdp;
}
async function viewerAnswer(offer) {
  log('viewer (local)'); watch();
  await pc.setRemoteDescription({ type: 'offer', sdp: offer });
  await pc.setLocalDescription(await pc.createAnswer());
  await gathered(5000);
  return pc.localDescription.sdp;
}
async function applyAnswer(sdp) { await pc.setRemoteDescription({ type: 'answer', sdp }); }
async function post(url, sdp, token) {
  const headers = { 'Content-Type': 'application/sdp' };
  if (token) headers.Authorization = 'Bearer ' + token;
  const r = await fetch(url, { method: 'POST', headers, body: sdp });
  const loc = r.headers.get('Location');
  return { status: r.status, body: await r.text(),
           location: loc ? new URL(loc, url).href : null,
           participant: r.headers.get('X-Participant-Id') };
}
async function del(url, token) {
  const r = await fetch(url, { method: 'DELETE',
                               headers: token ? { Authorization: 'Bearer ' + token } : {} });
  return r.status;
}
async function connected(timeoutMs) {
  const t0 = Date.now();
  while (pc.connectionState !== 'connected') {
    if (pc.connectionState === 'failed' || Date.now() - t0 > timeoutMs) return pc.connectionState;
    await new Promise((r) => setTimeout(r, 50));
  }
  return 'connected';
}
async function stats() {
  const out = { framesEncoded: 0, framesDecoded: 0, audioPackets: 0, videoPackets: 0,
                packetsLost: 0, nackCount: 0, freezeCount: 0, ciphers: [],
                videoWidth: document.getElementById('v').videoWidth, t: performance.now() };
  (await pc.getStats()).forEach((s) => {
    if (s.type === 'outbound-rtp' && s.kind === 'video') out.framesEncoded += s.framesEncoded || 0;
    if (s.type === 'inbound-rtp' && s.kind === 'video') {
      out.framesDecoded += s.framesDecoded || 0; out.videoPackets += s.packetsReceived || 0;
      out.packetsLost += s.packetsLost || 0; out.nackCount += s.nackCount || 0;
      out.freezeCount += s.freezeCount || 0;
    }
    if (s.type === 'inbound-rtp' && s.kind === 'audio') out.audioPackets += s.packetsReceived || 0;
    if (s.type === 'transport' && s.srtpCipher) out.ciphers.push(s.srtpCipher);
  });
  return out;
}
function close() { if (pc) pc.close(); }
</script>`;

function options() {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      'check-local': { type: 'boolean', default: false },
      room: { type: 'string' },
      seconds: { type: 'string', default: '8' },
      warmup: { type: 'string', default: '3' },
      'min-ratio': { type: 'string', default: '0.9' },
      screenshot: { type: 'string' },
      token: { type: 'string' },
      chromium: { type: 'string', default: '/usr/bin/chromium' },
      'connect-timeout': { type: 'string', default: '15' },
    },
  });
  if (!values['check-local'] && !values.url) {
    console.error('usage: chromium_whip_whep.mjs (--url http://127.0.0.1:PORT | --check-local)'
                  + ' [--screenshot FILE] [--seconds 8] [--room NAME] [--token JWT]');
    process.exit(2);
  }
  values.room ??= 'e2e-' + Math.random().toString(16).slice(2, 10);
  values.url = values.url?.replace(/\/+$/, '');
  return values;
}

class Checks {
  passed = 0;
  failed = 0;
  check(name, ok, detail = '') {
    console.log(`${ok ? 'PASS' : 'FAIL'} ${name}${detail ? ': ' + detail : ''}`);
    if (ok) this.passed++; else this.failed++;
    return ok;
  }
  summary() {
    console.log(`${this.passed} passed, ${this.failed} failed`);
    return this.failed === 0 && this.passed > 0 ? 0 : 1;
  }
}

// The pages' origin: loopback only, so getUserMedia sees a secure context.
function servePage() {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(PAGE);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// WHIP then WHEP, each POST made by the page itself. Returns session URLs.
async function connectViaSfu(o, pub, view, checks) {
  const offer = await pub.evaluate(() => publisherOffer());
  const whip = await pub.evaluate(([u, s, t]) => post(u, s, t),
    [`${o.url}/whip/${encodeURIComponent(o.room)}`, offer, o.token]);
  if (!checks.check('WHIP POST 201', whip.status === 201 && !!whip.location && !!whip.participant,
    `status ${whip.status}, participant ${whip.participant}, Location ${whip.location ? 'given' : 'missing'}`
    + (whip.status === 201 ? '' : `, body: ${whip.body.trim().slice(0, 200)}`))) return [];
  await pub.evaluate((s) => applyAnswer(s), whip.body);
  const sessions = [whip.location];
  const voffer = await view.evaluate(() => viewerOffer());
  const whepUrl = `${o.url}/whep/${encodeURIComponent(o.room)}/${encodeURIComponent(whip.participant)}`;
  const whep = await view.evaluate(([u, s, t]) => post(u, s, t), [whepUrl, voffer, o.token]);
  if (!checks.check('WHEP POST 201', whep.status === 201 && !!whep.location
    && whep.participant === whip.participant,
    `status ${whep.status}, X-Participant-Id ${whep.participant}`
    + (whep.status === 201 ? '' : `, body: ${whep.body.trim().slice(0, 200)}`))) return sessions;
  await view.evaluate((s) => applyAnswer(s), whep.body);
  sessions.push(whep.location);
  return sessions;
}

async function connectLocal(pub, view) {
  const offer = await pub.evaluate(() => publisherOffer());
  const answer = await view.evaluate((s) => viewerAnswer(s), offer);
  await pub.evaluate((s) => applyAnswer(s), answer);
  return [];
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sample = (pub, view) => Promise.all([pub.evaluate(() => stats()), view.evaluate(() => stats())]);

async function measure(o, pub, view, checks) {
  const warmup = Number(o.warmup), total = Number(o.seconds), minRatio = Number(o['min-ratio']);
  await sleep(warmup * 1000);
  const [p1, v1] = await sample(pub, view);
  await sleep(Math.max(1, total - warmup) * 1000);
  const [p2, v2] = await sample(pub, view);
  const encRate = (p2.framesEncoded - p1.framesEncoded) / ((p2.t - p1.t) / 1000);
  const decRate = (v2.framesDecoded - v1.framesDecoded) / ((v2.t - v1.t) / 1000);
  const ratio = encRate > 0 ? decRate / encRate : 0;
  console.log(`INFO publisher framesEncoded ${p2.framesEncoded} (${encRate.toFixed(1)}/s); viewer `
    + `framesDecoded ${v2.framesDecoded} (${decRate.toFixed(1)}/s), video packets ${v2.videoPackets}, `
    + `lost ${v2.packetsLost}, NACKs ${v2.nackCount}, freezes ${v2.freezeCount}`);
  checks.check(`video decoded >= ${(minRatio * 100).toFixed(0)}% of encoded rate`,
    encRate > 0 && ratio >= minRatio,
    `${decRate.toFixed(1)}/${encRate.toFixed(1)} frames/s (${(ratio * 100).toFixed(1)}%)`);
  checks.check('audio arrived', v2.audioPackets > v1.audioPackets && v1.audioPackets > 0,
    `packetsReceived ${v1.audioPackets} -> ${v2.audioPackets}`);
  checks.check('viewer shows a picture', v2.videoWidth > 0, `<video> videoWidth ${v2.videoWidth}`);
  for (const [name, s] of [['publisher', p2], ['viewer', v2]]) {
    const ciphers = s.ciphers.join(',') || 'none';
    if (o['check-local']) {
      // Chromium lists GCM after AES-CM and a DTLS server keeps its own
      // order, so two Chromiums settle on AES-CM; the SFU, as DTLS server
      // (it answers setup:passive), must pick GCM.
      console.log(`INFO ${name} srtpCipher ${ciphers} (not checked peer-to-peer)`);
      continue;
    }
    checks.check(`${name} SRTP cipher AES-GCM`,
      s.ciphers.length > 0 && s.ciphers.every((c) => GCM_CIPHERS.includes(c)),
      `srtpCipher ${ciphers}`);
  }
}

async function run(o, context, pageUrl, checks) {
  const pub = await context.newPage();
  const view = await context.newPage();
  for (const p of [pub, view]) p.on('pageerror', (e) => console.log(`INFO page error: ${e.message}`));
  await Promise.all([pub.goto(pageUrl), view.goto(pageUrl)]);
  let sessions = [];
  try {
    sessions = o['check-local'] ? await connectLocal(pub, view)
      : await connectViaSfu(o, pub, view, checks);
    if (checks.failed === 0) {
      const timeout = Number(o['connect-timeout']) * 1000;
      const [ps, vs] = await Promise.all([pub.evaluate((t) => connected(t), timeout),
                                          view.evaluate((t) => connected(t), timeout)]);
      checks.check('publisher connected', ps === 'connected', `connectionState ${ps}`);
      checks.check('viewer connected', vs === 'connected', `connectionState ${vs}`);
      if (checks.failed === 0) await measure(o, pub, view, checks);
      if (o.screenshot) {
        await view.screenshot({ path: o.screenshot });
        console.log(`INFO viewer screenshot: ${o.screenshot}`);
      }
    }
  } finally {
    // Viewer first, then the publisher, as the sessions were made.
    for (const [i, url] of [...sessions.entries()].reverse()) {
      const page = i === 0 ? pub : view;
      const status = await page.evaluate(([u, t]) => del(u, t), [url, o.token]).catch((e) => e.message);
      checks.check(`${i === 0 ? 'publisher' : 'viewer'} DELETE 200`, status === 200, `status ${status}`);
    }
    await Promise.all([pub.evaluate(() => close()), view.evaluate(() => close())]).catch(() => {});
  }
}

async function main() {
  const o = options();
  const checks = new Checks();
  console.log(`INFO room ${o.room}, ${o['check-local'] ? 'local peer-to-peer (no SFU)' : o.url}`);
  const server = await servePage();
  const pageUrl = `http://127.0.0.1:${server.address().port}/`;
  const userDataDir = mkdtempSync(join(tmpdir(), 'e2e-chromium-'));
  let context = null;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: o.chromium, headless: true, args: CHROMIUM_ARGS,
      permissions: ['camera', 'microphone'], viewport: { width: 660, height: 520 },
    });
    await run(o, context, pageUrl, checks);
  } catch (e) {
    checks.check('run without exceptions', false, e.stack || String(e));
  } finally {
    if (context) await context.close().catch(() => {});
    server.close();
    rmSync(userDataDir, { recursive: true, force: true });
  }
  process.exitCode = checks.summary();
}

main();
