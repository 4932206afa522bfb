#!/usr/bin/env node
// End-to-end encryption through the SFU, in headless Chromium (issue 9):
//   - a publisher sends its fake camera at 1280x720 as three simulcast
//     encodings (rids q, h, f) over WHIP, each frame encrypted by an
//     RTCRtpScriptTransform worker with a fixed test key: the VP8 payload
//     header stays in the clear (10 bytes of a keyframe, 3 of a delta frame,
//     as Jitsi and LiveKit leave it), the rest is XORed with a key stream;
//   - WHEP viewer A decrypts with the same transform on its receiver: it
//     decodes the top layer, then the lowest one pinned through the layer
//     selection Link, then the top one again back on automatic (the SFU's
//     keyframe detection and layer switches work on encrypted payloads); its
//     picture matches the publisher's preview;
//   - WHEP viewer C has no transform: what it decodes (if anything) does not
//     match the preview, so the payload really was encrypted end to end.
//
//   node tests/e2e/chromium_e2ee.mjs --url http://127.0.0.1:PORT
//
// Prints one PASS/FAIL line per check with the measured figures (fps and
// resolution per phase, picture differences), then "N passed, M failed".
// Options: --phase 3 (seconds measured per phase), --min-fps 10, --room,
// --chromium.

import { parseArgs } from 'node:util';
import { Checks, COMMON_OPTIONS, deleteSessions, layerUrl, midOf, postJson, randomRoom, sleep, videoSection,
         withPages } from './chromium_lib.mjs';

const RIDS = ['q', 'h', 'f'];

function options() {
  const { values } = parseArgs({
    options: {
      ...COMMON_OPTIONS,
      phase: { type: 'string', default: '3' },
      'min-fps': { type: 'string', default: '10' },
    },
  });
  if (!values.url) {
    console.error('usage: chromium_e2ee.mjs --url http://127.0.0.1:PORT');
    process.exit(2);
  }
  values.url = values.url.replace(/\/+$/, '');
  values.room ??= randomRoom('e2ee');
  return values;
}

// Installed into a page: the worker (a Blob) and helpers that attach it to
// the page's `pc` and sample its <video> as a small grey image.
const INSTALL = () => {
  const worker = `
const KEY = [0x3a, 0x91, 0x5c, 0xe7, 0x12, 0x8f, 0x44, 0xd0, 0x6b, 0x27, 0xf3, 0x05, 0xa8, 0x7e, 0xc1, 0x59];
let frames = 0, keys = 0;
function xor(frame) {
  const data = new Uint8Array(frame.data);
  // VP8 payload header (RFC 7741 4.3): 3 bytes; a keyframe adds the start
  // code and its size (7 more). These stay clear so that an SFU sees
  // keyframes and a decoder its frame size.
  const clear = frame.type === 'key' ? 10 : 3;
  for (let i = clear; i < data.length; i++) data[i] ^= KEY[i & 15] ^ ((i * 131) & 0xff);
  frame.data = data.buffer;
  frames++;
  if (frame.type === 'key') keys++;
}
onrtctransform = (e) => {
  events++;
  const t = e.transformer;
  t.readable.pipeThrough(new TransformStream({
    transform(frame, ctl) { if (frame.data.byteLength) xor(frame); ctl.enqueue(frame); },
  })).pipeTo(t.writable);
};
let events = 0;
onmessage = () => postMessage({ frames, keys, events });
`;
  window.e2eeWorker = new Worker(URL.createObjectURL(new Blob([worker], { type: 'text/javascript' })));
  // Chromium routes frames through a transform only when it is set before
  // the first offer: the lib's publish() and viewerOffer() with the
  // transform attached right after addTransceiver. Viewer A asks for the
  // dependency descriptor too (Chromium offers it only on request).
  window.publishE2ee = async (opts) => {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: opts.video });
    document.getElementById('v').srcObject = stream;
    pc = new RTCPeerConnection();
    pc.addTransceiver(stream.getAudioTracks()[0], { direction: 'sendonly', streams: [stream] });
    const vt = pc.addTransceiver(stream.getVideoTracks()[0],
      { direction: 'sendonly', streams: [stream], sendEncodings: opts.sendEncodings });
    vt.sender.transform = new RTCRtpScriptTransform(window.e2eeWorker, { side: 'send' });
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(5000);
    return { sdp: pc.localDescription.sdp };
  };
  window.viewerE2ee = async (decrypt) => {
    document.getElementById('v').srcObject = null;
    pc = new RTCPeerConnection();
    pc.ontrack = (e) => {
      const v = document.getElementById('v');
      if (!v.srcObject) v.srcObject = new MediaStream();
      v.srcObject.addTrack(e.track);
    };
    pc.addTransceiver('audio', { direction: 'recvonly' });
    const t = pc.addTransceiver('video', { direction: 'recvonly' });
    if (decrypt) {
      t.receiver.transform = new RTCRtpScriptTransform(window.e2eeWorker, { side: 'receive' });
      const hx = t.getHeaderExtensionsToNegotiate();
      hx.forEach((h) => { if (h.uri.includes('dependency-descriptor')) h.direction = 'recvonly'; });
      t.setHeaderExtensionsToNegotiate(hx);
    }
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(5000);
    return { sdp: pc.localDescription.sdp };
  };
  window.e2eeCount = () => new Promise((resolve) => {
    window.e2eeWorker.onmessage = (e) => resolve(e.data);
    window.e2eeWorker.postMessage('count');
  });
  // The <video> as W x H grey levels (0..255), or null before a frame.
  window.grey = (w, h) => {
    const v = document.getElementById('v');
    if (!v.videoWidth) return null;
    const c = document.createElement('canvas');
    c.width = w; c.height = h;
    const g = c.getContext('2d', { willReadFrequently: true });
    g.drawImage(v, 0, 0, w, h);
    const d = g.getImageData(0, 0, w, h).data, out = [];
    for (let i = 0; i < d.length; i += 4) out.push(Math.round(0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2]));
    return out;
  };
};

async function watch(o, page, participant, name, decrypt, checks) {
  const offer = await page.evaluate((d) => viewerE2ee(d), decrypt);
  const url = `${o.url}/whep/${encodeURIComponent(o.room)}/${encodeURIComponent(participant)}`;
  const r = await page.evaluate(([u, s]) => post(u, s), [url, offer.sdp]);
  if (!checks.check(`${name}: WHEP POST 201`, r.status === 201 && !!r.location,
    `status ${r.status}${r.status === 201 ? '' : ', ' + r.body.trim().slice(0, 200)}`)) return null;
  await page.evaluate((s) => applyAnswer(s), r.body);
  const dd = /^a=extmap:\d+\S* https:\/\/aomediacodec\.github\.io\/av1-rtp-spec\/#dependency-descriptor/m
    .test(videoSection(r.body));
  return { session: { page, url: r.location, who: name }, mid: midOf(videoSection(r.body)),
           layer: layerUrl(r.link, url), dd };
}

async function videoIn(page) {
  const s = await page.evaluate(() => stats());
  return { t: s.t, frames: s.inbound?.framesDecoded || 0, width: s.inbound?.width || 0,
           height: s.inbound?.height || 0, keys: s.inbound?.keyFrames || 0, freezes: s.inbound?.freezes || 0 };
}

// Mean absolute grey-level difference between two pages' pictures (W x H),
// the smallest of a few tries (the fake camera's pattern moves).
async function pictureDiff(a, b) {
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const [x, y] = await Promise.all([a.evaluate(() => grey(32, 18)), b.evaluate(() => grey(32, 18))]);
    if (x && y) best = Math.min(best, x.reduce((n, v, k) => n + Math.abs(v - y[k]), 0) / x.length);
    await sleep(150);
  }
  return best;
}

// One measured phase of viewer A: fps and resolution over `seconds`.
async function phase(page, seconds) {
  const a = await videoIn(page);
  await sleep(seconds * 1000);
  const b = await videoIn(page);
  return { fps: (b.frames - a.frames) / ((b.t - a.t) / 1000), width: b.width, height: b.height,
           frames: b.frames, keys: b.keys - a.keys, freezes: b.freezes };
}

async function untilWidth(page, pred, ms) {
  const t0 = Date.now();
  let w = 0;
  while (Date.now() - t0 < ms) {
    w = (await videoIn(page)).width;
    if (pred(w)) break;
    await sleep(200);
  }
  return { width: w, after: (Date.now() - t0) / 1000 };
}

async function run(o, checks, [pub, viewA, viewC]) {
  const sessions = [];
  const per = Number(o.phase), minFps = Number(o['min-fps']);
  try {
    await Promise.all([pub, viewA, viewC].map((p) => p.evaluate(INSTALL)));
    const offer = await pub.evaluate((opts) => publishE2ee(opts), {
      video: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } },
      sendEncodings: RIDS.map((rid, i) => ({ rid, scaleResolutionDownBy: 2 ** (RIDS.length - 1 - i) })),
    });
    const whip = await pub.evaluate(([u, s]) => post(u, s), [`${o.url}/whip/${encodeURIComponent(o.room)}`, offer.sdp]);
    if (!checks.check('WHIP POST 201', whip.status === 201 && !!whip.participant,
      `status ${whip.status}${whip.status === 201 ? '' : ', ' + whip.body.trim().slice(0, 200)}`)) return;
    sessions.push({ page: pub, url: whip.location, who: 'publisher' });
    const sim = (videoSection(whip.body).match(/^a=simulcast:.*$/m) || ['no a=simulcast'])[0].trim();
    checks.check('WHIP answer keeps simulcast (a=simulcast:recv q;h;f)', sim === 'a=simulcast:recv q;h;f', sim);
    const pubDd = /dependency-descriptor/.test(videoSection(whip.body));
    await pub.evaluate((s) => applyAnswer(s), whip.body);

    const a = await watch(o, viewA, whip.participant, 'viewer A (decrypting)', true, checks);
    const c = await watch(o, viewC, whip.participant, 'viewer C (no transform)', false, checks);
    if (!a || !c) return;
    sessions.push(a.session, c.session);
    checks.check('dependency descriptor negotiated with the publisher and viewer A', pubDd && a.dd,
      `publisher ${pubDd}, viewer ${a.dd}`);
    const states = await Promise.all([pub, viewA, viewC].map((p) => p.evaluate(() => connected(15000))));
    if (!checks.check('publisher and both viewers connected', states.every((s) => s === 'connected'),
      states.join(', '))) return;

    // Chromium starts the top encoding once its bandwidth estimate allows:
    // wait until all three produce frames.
    const tw = Date.now();
    let producing = [];
    for (let prev = null; Date.now() - tw < 20000;) {
      const now = await pub.evaluate(() => stats());
      if (prev) {
        const was = new Map(prev.outbound.map((e) => [e.rid, e.framesEncoded]));
        producing = now.outbound.filter((e) => e.framesEncoded > (was.get(e.rid) ?? 0));
        if (producing.length === RIDS.length) break;
      }
      prev = now;
      await sleep(1000);
    }
    console.log(`INFO encodings producing after ${((Date.now() - tw) / 1000).toFixed(1)} s: `
      + `${producing.map((e) => `${e.rid} ${e.width}x${e.height}`).join(', ')}`);

    // Viewer C, without the key: nothing usable. It leaves then, so that its
    // decoder's keyframe requests do not disturb the measured phases.
    const dA = await pictureDiff(pub, viewA), dC = await pictureDiff(pub, viewC);
    const vc = await videoIn(viewC);
    console.log(`INFO picture difference to the publisher's preview (mean |grey|, 32x18): viewer A ${dA.toFixed(1)}, `
      + `viewer C ${Number.isFinite(dC) ? dC.toFixed(1) : 'no picture'} (C decoded ${vc.frames} frames, `
      + `${vc.width}x${vc.height})`);
    checks.check('viewer A\'s picture matches the publisher\'s', dA < 20, `mean difference ${dA.toFixed(1)}`);
    checks.check('viewer C (no key) gets no usable picture', !Number.isFinite(dC) || dC > 2 * dA + 10,
      `mean difference ${Number.isFinite(dC) ? dC.toFixed(1) : 'no picture'}`);
    await deleteSessions([sessions.pop()], checks);
    await viewC.evaluate(() => close());

    // Automatic: the top layer.
    const up = await untilWidth(viewA, (w) => w >= 1280, 15000);
    console.log(`INFO viewer A at ${up.width} wide after ${up.after.toFixed(1)} s more`);
    const p1 = await phase(viewA, per);
    const enc = await pub.evaluate(() => e2eeCount());
    const dec = await viewA.evaluate(() => e2eeCount());
    console.log(`INFO publisher transform: ${enc.frames} frames encrypted (${enc.keys} keyframes, ${enc.events} `
      + `transforms); viewer A: ${dec.frames} frames decrypted (${dec.keys} keyframes, ${dec.events} transforms)`);
    console.log(`INFO phase 1 (automatic): ${p1.width}x${p1.height} at ${p1.fps.toFixed(1)} fps, freezes ${p1.freezes}`);
    checks.check('the publisher\'s frames pass its encrypting transform, viewer A\'s its decrypting one',
      enc.frames > 30 && enc.keys > 0 && dec.frames > 30, `${enc.frames} and ${dec.frames} frames`);
    checks.check(`phase 1: viewer A decrypts and decodes the top layer at >= ${minFps} fps`,
      p1.width >= 1280 && p1.fps >= minFps, `${p1.width}x${p1.height} at ${p1.fps.toFixed(1)} fps`);
    const dA1 = await pictureDiff(pub, viewA);
    checks.check('phase 1: viewer A\'s picture matches the publisher\'s', dA1 < 20, `mean difference ${dA1.toFixed(1)}`);

    // Pinned to the lowest layer.
    if (!checks.check('viewer A has a layer selection Link', !!a.layer)) return;
    const pin = await postJson(viewA, a.layer, JSON.stringify({ mediaId: a.mid, encodingId: 'q' }));
    checks.check('viewer A pins encodingId q: 204', pin.status === 204, `${pin.status} ${pin.text.trim()}`);
    const down = await untilWidth(viewA, (w) => w > 0 && w <= 400, 10000);
    const p2 = await phase(viewA, per);
    console.log(`INFO phase 2 (pinned q, switched after ${down.after.toFixed(1)} s): ${p2.width}x${p2.height} `
      + `at ${p2.fps.toFixed(1)} fps, freezes ${p2.freezes}`);
    checks.check(`phase 2: viewer A decodes the lowest layer at >= ${minFps} fps`,
      p2.width > 0 && p2.width <= 400 && p2.fps >= minFps, `${p2.width}x${p2.height} at ${p2.fps.toFixed(1)} fps`);
    const dA2 = await pictureDiff(pub, viewA);
    checks.check('phase 2: viewer A\'s picture matches the publisher\'s', dA2 < 20, `mean difference ${dA2.toFixed(1)}`);

    // Back to automatic.
    const auto = await postJson(viewA, a.layer, JSON.stringify({ mediaId: a.mid }));
    checks.check('viewer A back to automatic: 204', auto.status === 204, `${auto.status} ${auto.text.trim()}`);
    const back = await untilWidth(viewA, (w) => w >= 1280, 10000);
    const p3 = await phase(viewA, per);
    console.log(`INFO phase 3 (automatic, switched after ${back.after.toFixed(1)} s): ${p3.width}x${p3.height} `
      + `at ${p3.fps.toFixed(1)} fps, freezes ${p3.freezes}`);
    checks.check(`phase 3: viewer A decodes the top layer again at >= ${minFps} fps`,
      p3.width >= 1280 && p3.fps >= minFps, `${p3.width}x${p3.height} at ${p3.fps.toFixed(1)} fps`);
    const dA3 = await pictureDiff(pub, viewA);
    checks.check('phase 3: viewer A\'s picture matches the publisher\'s', dA3 < 20, `mean difference ${dA3.toFixed(1)}`);
  } finally {
    await deleteSessions(sessions, checks);
  }
}

async function main() {
  const o = options();
  const checks = new Checks();
  console.log(`INFO room ${o.room}, ${o.url}`);
  await withPages(o, checks, 3, (pages) => run(o, checks, pages));
  process.exitCode = checks.summary();
}

main();
