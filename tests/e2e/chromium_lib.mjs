// Shared parts of the focused Chromium tests (chromium_h264.mjs,
// chromium_simulcast.mjs, chromium_ice_tcp.mjs): launching Debian's Chromium
// with the flags from TESTING.md, a test page whose WebRTC and fetch calls
// run in the browser, WHIP publish + WHEP view, getStats() digests, the
// frame-rate comparison and the PASS/FAIL bookkeeping.
//
// chromium_whip_whep.mjs and chromium_page.mjs predate this module and keep
// their own copies.

import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM_ARGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--disable-features=WebRtcHideLocalIpsWithMdns,MediaRouter,DialMediaRouteProvider',
  '--autoplay-policy=no-user-gesture-required',
];

// Runs in the page. `publish(opts)` and `viewerOffer()` make the offers; every
// WHIP/WHEP request is the page's own fetch, so CORS is exercised too.
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
function videoCodecs() {
  return RTCRtpSender.getCapabilities('video').codecs.map((c) => c.mimeType + ' ' + (c.sdpFmtpLine || ''));
}
// opts.codec: { mime, fmtp: [substrings the fmtp line must contain] } keeps
// only those codecs (plus rtx) through setCodecPreferences; returns
// { error } when the browser offers no such codec.
// opts.sendEncodings: passed to addTransceiver as is (simulcast).
// opts.rtcConfig: the RTCPeerConnection configuration (TURN, relay only).
// opts.video: getUserMedia video constraints (default: true).
async function publish(opts) {
  log('publisher');
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: opts.video || true });
  document.getElementById('v').srcObject = stream;
  pc = new RTCPeerConnection(opts.rtcConfig || {});
  pc.addTransceiver(stream.getAudioTracks()[0], { direction: 'sendonly', streams: [stream] });
  const init = { direction: 'sendonly', streams: [stream] };
  if (opts.sendEncodings) init.sendEncodings = opts.sendEncodings;
  const vt = pc.addTransceiver(stream.getVideoTracks()[0], init);
  if (opts.codec) {
    const all = RTCRtpSender.getCapabilities('video').codecs;
    const chosen = all.filter((c) => c.mimeType.toLowerCase() === opts.codec.mime.toLowerCase()
      && opts.codec.fmtp.every((f) => (c.sdpFmtpLine || '').split(';').includes(f)));
    if (chosen.length === 0) return { error: 'no matching codec', codecs: videoCodecs() };
    vt.setCodecPreferences(chosen.concat(all.filter((c) => c.mimeType === 'video/rtx')));
  }
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(5000);
  return { sdp: pc.localDescription.sdp };
}
async function viewerOffer(opts) {
  log('viewer');
  // A fresh stream: audio added to one a previous session left playing is
  // never rendered (no totalSamplesReceived).
  document.getElementById('v').srcObject = null;
  pc = new RTCPeerConnection((opts && opts.rtcConfig) || {});
  pc.ontrack = (e) => {
    const v = document.getElementById('v');
    if (!v.srcObject) v.srcObject = new MediaStream();
    v.srcObject.addTrack(e.track);
  };
  pc.addTransceiver('audio', { direction: 'recvonly' });
  pc.addTransceiver('video', { direction: 'recvonly' });
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(5000);
  return { sdp: pc.localDescription.sdp };
}
// When the answer went in and when ICE, then DTLS too, connected
// (performance.now() ms), for connectTiming().
const timing = { answerAt: 0, iceAt: 0, connectedAt: 0 };
async function applyAnswer(sdp) {
  Object.assign(timing, { answerAt: performance.now(), iceAt: 0, connectedAt: 0 });
  pc.addEventListener('iceconnectionstatechange', () => {
    if (pc.iceConnectionState === 'connected' && !timing.iceAt) timing.iceAt = performance.now();
  });
  pc.addEventListener('connectionstatechange', () => {
    if (pc.connectionState === 'connected' && !timing.connectedAt) timing.connectedAt = performance.now();
  });
  await pc.setRemoteDescription({ type: 'answer', sdp });
}
function connectTiming() { return timing; }
async function post(url, sdp) {
  const r = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: sdp });
  const loc = r.headers.get('Location');
  return { status: r.status, body: await r.text(),
           location: loc ? new URL(loc, url).href : null,
           participant: r.headers.get('X-Participant-Id'), link: r.headers.get('Link') || '' };
}
// Chromium fails requests once with ERR_NETWORK_CHANGED (a TypeError here)
// right after an address of the machine changed: try again a few times.
async function netFetch(url, init) {
  for (let i = 0; ; i++) {
    try { return await fetch(url, init); } catch (e) {
      if (!(e instanceof TypeError) || i === 4) throw e;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}
async function del(url) { return (await netFetch(url, { method: 'DELETE' })).status; }
async function connected(timeoutMs) {
  const t0 = Date.now();
  while (pc.connectionState !== 'connected') {
    if (pc.connectionState === 'failed' || Date.now() - t0 > timeoutMs) return pc.connectionState;
    await new Promise((r) => setTimeout(r, 50));
  }
  return 'connected';
}
function senderEncodings() {
  const s = pc.getSenders().find((x) => x.track && x.track.kind === 'video');
  return s ? s.getParameters().encodings.map((e) => ({ rid: e.rid || null, active: e.active,
                                                      scale: e.scaleResolutionDownBy })) : [];
}
async function stats() {
  const all = await pc.getStats();
  const byId = new Map();
  all.forEach((s) => byId.set(s.id, s));
  const codecOf = (s) => (s.codecId && byId.get(s.codecId)) || {};
  const out = { outbound: [], inbound: null, audioPackets: 0, ciphers: [], pair: null,
                videoWidth: document.getElementById('v').videoWidth, t: performance.now(),
                connectionState: pc.connectionState };
  all.forEach((s) => {
    if (s.type === 'outbound-rtp' && s.kind === 'video') {
      out.outbound.push({ ssrc: s.ssrc, rid: s.rid || null, active: s.active,
        framesEncoded: s.framesEncoded || 0, width: s.frameWidth || 0, height: s.frameHeight || 0,
        limit: s.qualityLimitationReason || '',
        encoder: s.encoderImplementation || '', mime: codecOf(s).mimeType || '',
        fmtp: codecOf(s).sdpFmtpLine || '' });
    }
    if (s.type === 'inbound-rtp' && s.kind === 'video') {
      out.inbound = { framesDecoded: s.framesDecoded || 0, packets: s.packetsReceived || 0,
        lost: s.packetsLost || 0, nacks: s.nackCount || 0, freezes: s.freezeCount || 0,
        freezeSeconds: s.totalFreezesDuration || 0, plis: s.pliCount || 0,
        keyFrames: s.keyFramesDecoded || 0, bytes: s.bytesReceived || 0,
        width: s.frameWidth || 0, height: s.frameHeight || 0,
        decoder: s.decoderImplementation || '', mime: codecOf(s).mimeType || '',
        fmtp: codecOf(s).sdpFmtpLine || '' };
    }
    if (s.type === 'inbound-rtp' && s.kind === 'audio') {
      out.audioPackets += s.packetsReceived || 0;
      out.audio = { packets: s.packetsReceived || 0, lost: s.packetsLost || 0,
        samples: s.totalSamplesReceived || 0, concealed: s.concealedSamples || 0,
        silentConcealed: s.silentConcealedSamples || 0, mime: codecOf(s).mimeType || '' };
    }
    if (s.type === 'outbound-rtp' && s.kind === 'audio') out.audioOutMime = codecOf(s).mimeType || '';
    if (s.type === 'transport') {
      if (s.srtpCipher) out.ciphers.push(s.srtpCipher);
      const p = s.selectedCandidatePairId && byId.get(s.selectedCandidatePairId);
      if (p) {
        const l = byId.get(p.localCandidateId) || {}, r = byId.get(p.remoteCandidateId) || {};
        out.pair = {
          local: { protocol: l.protocol, address: l.address, port: l.port, type: l.candidateType, tcpType: l.tcpType,
                   relayProtocol: l.relayProtocol },
          remote: { protocol: r.protocol, address: r.address, port: r.port, type: r.candidateType, tcpType: r.tcpType },
          bytesReceived: p.bytesReceived || 0, bytesSent: p.bytesSent || 0 };
      }
    }
  });
  return out;
}
// The viewer's framesDecoded every intervalMs for ms milliseconds, as
// [[performance.now(), framesDecoded], ...]: when video stopped and resumed.
async function sampleFrames(ms, intervalMs) {
  const out = [], end = performance.now() + ms;
  while (performance.now() < end) {
    let frames = 0;
    (await pc.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') frames = s.framesDecoded || 0;
    });
    out.push([performance.now(), frames]);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return out;
}
function close() { if (pc) pc.close(); }
// ICE restart of a WHIP/WHEP session (RFC 9725 4.3): the new offer's
// credentials go out in an sdpfrag PATCH; the answer's credentials and
// candidates replace the old ones in the remote description.
async function iceRestart(url) {
  pc.restartIce();
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(5000);
  const sdp = pc.localDescription.sdp;
  const one = (text, re) => (text.match(re) || [''])[0];
  const m = sdp.slice(sdp.indexOf('\\r\\nm=') + 2);
  const frag = [one(sdp, /^a=ice-ufrag:.*$/m), one(sdp, /^a=ice-pwd:.*$/m),
                m.split('\\r\\n')[0], one(m, /^a=mid:.*$/m)].join('\\r\\n') + '\\r\\n';
  const r = await netFetch(url, { method: 'PATCH', body: frag,
    headers: { 'Content-Type': 'application/trickle-ice-sdpfrag', 'If-Match': '*' } });
  const body = await r.text();
  if (r.status !== 200) return { status: r.status, body };
  const cands = (body.match(/^a=candidate:.*$/gm) || []).map((c) => c + '\\r\\n').join('');
  const remote = pc.remoteDescription.sdp
    .replace(/^a=candidate:.*\\r\\n/gm, '')
    .replace(/^a=ice-ufrag:.*$/gm, one(body, /^a=ice-ufrag:.*$/m))
    .replace(/^a=ice-pwd:.*\\r\\n/gm, one(body, /^a=ice-pwd:.*$/m) + '\\r\\n' + cands);
  Object.assign(timing, { answerAt: performance.now(), iceAt: 0, connectedAt: 0 });
  await pc.setRemoteDescription({ type: 'answer', sdp: remote });
  return { status: 200, body };
}
function restartFrag(sdp, cands) {
  const one = (text, re) => (text.match(re) || [''])[0];
  const m = sdp.slice(sdp.indexOf('\\r\\nm=') + 2);
  return [one(sdp, /^a=ice-ufrag:.*$/m), one(sdp, /^a=ice-pwd:.*$/m), m.split('\\r\\n')[0],
          one(m, /^a=mid:.*$/m), ...cands.map((c) => 'a=' + c)].join('\\r\\n') + '\\r\\n';
}
function answerWith(body) {
  const one = (text, re) => (text.match(re) || [''])[0];
  const cands = (body.match(/^a=candidate:.*$/gm) || []).map((c) => c + '\\r\\n').join('');
  return pc.remoteDescription.sdp
    .replace(/^a=candidate:.*\\r\\n/gm, '')
    .replace(/^a=ice-ufrag:.*$/gm, one(body, /^a=ice-ufrag:.*$/m))
    .replace(/^a=ice-pwd:.*\\r\\n/gm, one(body, /^a=ice-pwd:.*$/m) + '\\r\\n' + cands);
}
// The other order (a trickle client): PATCH the new credentials at once,
// apply the answer, then trickle each candidate in a PATCH of its own
// (RFC 9725 4.3.1) as it is gathered. Resolves after the answer went in;
// the trickle PATCHes' statuses collect in trickleStatuses.
const trickleStatuses = [];
async function iceRestartTrickle(url) {
  pc.restartIce();
  const queued = [];
  let answered = false;
  const trickle = (c) => netFetch(url, { method: 'PATCH', body: restartFrag(pc.localDescription.sdp, [c]),
    headers: { 'Content-Type': 'application/trickle-ice-sdpfrag' } })
    .then((r) => trickleStatuses.push(r.status), () => trickleStatuses.push(0));
  const onCand = (e) => {
    if (!e.candidate || !e.candidate.candidate) return;
    if (answered) trickle(e.candidate.candidate); else queued.push(e.candidate.candidate);
  };
  pc.addEventListener('icecandidate', onCand);
  await pc.setLocalDescription(await pc.createOffer());
  const r = await netFetch(url, { method: 'PATCH', body: restartFrag(pc.localDescription.sdp, []),
    headers: { 'Content-Type': 'application/trickle-ice-sdpfrag', 'If-Match': '*' } });
  const body = await r.text();
  if (r.status !== 200) return { status: r.status, body };
  Object.assign(timing, { answerAt: performance.now(), iceAt: 0, connectedAt: 0 });
  await pc.setRemoteDescription({ type: 'answer', sdp: answerWith(body) });
  answered = true;
  queued.splice(0).forEach(trickle);
  setTimeout(() => pc.removeEventListener('icecandidate', onCand), 5000);
  return { status: 200, body };
}
</script>`;

export class Checks {
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

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const randomRoom = (prefix) => prefix + '-' + Math.random().toString(16).slice(2, 10);

// The pages' origin is loopback, so getUserMedia sees a secure context.
function servePage() {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(PAGE);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// Launches Chromium with a fresh profile, opens a publisher and a viewer
// page, runs body({ pub, view }) and always tears everything down. Any
// exception becomes one FAIL line.
export async function withBrowser(o, checks, body) {
  return withPages(o, checks, 2, ([pub, view]) => body({ pub, view }));
}

// The same with one page: body(page). For a publisher and a viewer in two
// browsers, each in a network namespace of its own (netlab.sh).
export async function withPage(o, checks, body) {
  return withPages(o, checks, 1, ([page]) => body(page));
}

// The same with `count` pages: body([page, ...]).
export async function withPages(o, checks, count, body) {
  const server = await servePage();
  const pageUrl = `http://127.0.0.1:${server.address().port}/`;
  const userDataDir = mkdtempSync(join(tmpdir(), 'e2e-chromium-'));
  let context = null;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: o.chromium || '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS,
      permissions: ['camera', 'microphone'], viewport: { width: 660, height: 520 },
    });
    const pages = [];
    for (let i = 0; i < count; i++) pages.push(await context.newPage());
    for (const p of pages) p.on('pageerror', (e) => console.log(`INFO page error: ${e.message}`));
    await Promise.all(pages.map((p) => p.goto(pageUrl)));
    try {
      await body(pages);
    } finally {
      await Promise.all(pages.map((p) => p.evaluate(() => close()))).catch(() => {});
    }
  } catch (e) {
    checks.check('run without exceptions', false, e.stack || String(e));
  } finally {
    if (context) await context.close().catch(() => {});
    server.close();
    rmSync(userDataDir, { recursive: true, force: true });
  }
}

// WHIP POST of the publisher's offer, WHEP POST of the viewer's. Returns
// { sessions, whip, whep } (the answers' SDP in whip.body / whep.body), or
// null after a FAIL line. publishOpts go to the page's publish().
export async function whipWhep(o, pub, view, checks, publishOpts = {}, viewOpts = {}) {
  const offer = await pub.evaluate((opts) => publish(opts), publishOpts);
  if (offer.error) return { error: offer.error, codecs: offer.codecs, sessions: [] };
  const whip = await pub.evaluate(([u, s]) => post(u, s),
    [`${o.url}/whip/${encodeURIComponent(o.room)}`, offer.sdp]);
  const sessions = [];
  if (!checks.check('WHIP POST 201', whip.status === 201 && !!whip.location && !!whip.participant,
    `status ${whip.status}` + (whip.status === 201 ? '' : `, body: ${whip.body.trim().slice(0, 200)}`))) {
    return { sessions, offer: offer.sdp, whip };
  }
  sessions.push({ page: pub, url: whip.location, who: 'publisher' });
  await pub.evaluate((s) => applyAnswer(s), whip.body);
  const voffer = await view.evaluate((opts) => viewerOffer(opts), viewOpts);
  const whepUrl = `${o.url}/whep/${encodeURIComponent(o.room)}/${encodeURIComponent(whip.participant)}`;
  const whep = await view.evaluate(([u, s]) => post(u, s), [whepUrl, voffer.sdp]);
  if (checks.check('WHEP POST 201', whep.status === 201 && !!whep.location,
    `status ${whep.status}` + (whep.status === 201 ? '' : `, body: ${whep.body.trim().slice(0, 200)}`))) {
    sessions.push({ page: view, url: whep.location, who: 'viewer' });
    await view.evaluate((s) => applyAnswer(s), whep.body);
  }
  return { sessions, offer: offer.sdp, whip, whep };
}

export async function bothConnected(o, pub, view, checks) {
  const timeout = Number(o['connect-timeout'] || 15) * 1000;
  const [ps, vs] = await Promise.all([pub.evaluate((t) => connected(t), timeout),
                                      view.evaluate((t) => connected(t), timeout)]);
  const a = checks.check('publisher connected', ps === 'connected', `connectionState ${ps}`);
  const b = checks.check('viewer connected', vs === 'connected', `connectionState ${vs}`);
  return a && b;
}

// Samples both pages once the warm-up is over and again `seconds - warmup`
// s later; checks the viewer's framesDecoded rate against the publisher's
// framesEncoded rate (all its video encodings together). The warm-up ends a
// second after the viewer's first decoded frame (past the first key frame
// and the jitter buffer), `warmup` s at most. Returns the samples for more
// checks.
export async function measureRates(o, pub, view, checks) {
  const warmup = Number(o.warmup), total = Number(o.seconds), minRatio = Number(o['min-ratio']);
  const sample = () => Promise.all([pub.evaluate(() => stats()), view.evaluate(() => stats())]);
  const enc = (s) => s.outbound.reduce((n, e) => n + e.framesEncoded, 0);
  const dec = (s) => (s.inbound ? s.inbound.framesDecoded : 0);
  const warmupEnd = Date.now() + warmup * 1000;
  while (Date.now() < warmupEnd) {
    if (dec(await view.evaluate(() => stats())) > 0) {
      await sleep(Math.max(0, Math.min(1000, warmupEnd - Date.now())));
      break;
    }
    await sleep(200);
  }
  const [p1, v1] = await sample();
  await sleep(Math.max(1, total - warmup) * 1000);
  const [p2, v2] = await sample();
  const encRate = (enc(p2) - enc(p1)) / ((p2.t - p1.t) / 1000);
  const decRate = (dec(v2) - dec(v1)) / ((v2.t - v1.t) / 1000);
  const ratio = encRate > 0 ? decRate / encRate : 0;
  const vi = v2.inbound || {};
  console.log(`INFO publisher framesEncoded ${enc(p2)} (${encRate.toFixed(1)}/s); viewer framesDecoded `
    + `${dec(v2)} (${decRate.toFixed(1)}/s), ${vi.width}x${vi.height}, packets ${vi.packets}, `
    + `lost ${vi.lost}, NACKs ${vi.nacks}, freezes ${vi.freezes}`);
  checks.check(`video decoded >= ${(minRatio * 100).toFixed(0)}% of encoded rate`,
    encRate > 0 && dec(v1) > 0 && ratio >= minRatio,
    `${decRate.toFixed(1)}/${encRate.toFixed(1)} frames/s (${(ratio * 100).toFixed(1)}%)`);
  return { p1, v1, p2, v2 };
}

export async function deleteSessions(sessions, checks) {
  for (const s of [...sessions].reverse()) {
    const status = await s.page.evaluate((u) => del(u), s.url).catch((e) => e.message);
    checks.check(`${s.who} DELETE 200`, status === 200, `status ${status}`);
  }
}

// The common options of these scripts, for node:util parseArgs.
export const COMMON_OPTIONS = {
  url: { type: 'string' },
  room: { type: 'string' },
  seconds: { type: 'string', default: '12' },
  warmup: { type: 'string', default: '4' },
  'min-ratio': { type: 'string', default: '0.9' },
  chromium: { type: 'string', default: '/usr/bin/chromium' },
  'connect-timeout': { type: 'string', default: '15' },
};

// Simulcast layer selection (docs/API.md "Simulcast layers"), shared by
// chromium_simulcast.mjs and chromium_e2ee.mjs.
export const LAYER_REL = 'urn:ietf:params:whep:ext:core:layer';
export const videoSection = (sdp) => sdp.split(/\r?\n(?=m=)/).find((m) => m.startsWith('m=video')) || '';
export const midOf = (section) => (section.match(/^a=mid:(\S+)/m) || [])[1];

// The layer selection URL among a response's Link fields, resolved against `base`.
export function layerUrl(link, base) {
  for (const part of link.split(/,\s*(?=<)/)) {
    const m = part.match(/^<([^>]+)>\s*;\s*rel="([^"]+)"/);
    if (m && m[2] === LAYER_REL) return new URL(m[1], base).href;
  }
  return null;
}

// POST of `body` (a string) as JSON from the page; { status, text }.
export const postJson = (page, url, body) => page.evaluate(async ([u, b]) => {
  const r = await fetch(u, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: b });
  return { status: r.status, text: await r.text() };
}, [url, body]);
