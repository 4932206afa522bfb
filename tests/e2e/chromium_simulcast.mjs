#!/usr/bin/env node
// Simulcast through the SFU, end to end in headless Chromium (issue 9):
//   - a publisher sends its fake camera at 1280x720 as three encodings over
//     WHIP (rids q, h, f at scaleResolutionDownBy 4, 2, 1); the answer keeps
//     a=simulcast, and all three encodings produce frames;
//   - WHEP viewer A (automatic, no bandwidth limit) decodes the top layer at
//     the top layer's width and >= --min-fps frames/s over --seconds;
//   - WHEP viewer B pins the lowest layer through the layer selection Link
//     of its 201 (POST {"mediaId", "encodingId":"q"}) and decodes it at the
//     lowest layer's width; a bad body is answered 400; back to automatic
//     ({"mediaId"}) it gets the top layer again;
//   - GET /rooms/{room} shows the three layers (rid, size, bitrate, active)
//     and each viewer's current layer and cap;
//   - a participant of the call page (a room session) gets the top layer in a
//     big window; in a small one its tile asks for a small layer (maxLayer)
//     and gets it;
//   - an aiortc WHEP viewer (no transport-cc, so no estimate) gets the top
//     layer too (whep_video_viewer.py).
//
//   node tests/e2e/chromium_simulcast.mjs --url http://127.0.0.1:PORT
//
// Prints one PASS/FAIL line per check with the measured figures, then
// "N passed, M failed"; exit 0 only if all pass. Options: --seconds 8
// (measuring window), --warmup 4, --min-fps 18, --room, --chromium,
// --python /usr/bin/python3.

import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Checks, COMMON_OPTIONS, deleteSessions, layerUrl, midOf, postJson, randomRoom, sleep, videoSection,
         withPages } from './chromium_lib.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const RIDS = ['q', 'h', 'f'];

function options() {
  const { values } = parseArgs({
    options: {
      ...COMMON_OPTIONS,
      seconds: { type: 'string', default: '8' },
      'min-fps': { type: 'string', default: '18' },
      python: { type: 'string', default: '/usr/bin/python3' },
    },
  });
  if (!values.url) {
    console.error('usage: chromium_simulcast.mjs --url http://127.0.0.1:PORT');
    process.exit(2);
  }
  values.url = values.url.replace(/\/+$/, '');
  values.room ??= randomRoom('simulcast');
  return values;
}

async function getRoom(o) {
  const r = await fetch(`${o.url}/rooms/${encodeURIComponent(o.room)}`);
  return r.status === 200 ? r.json() : null;
}

// A WHEP viewer on `page` of `participant`: { session, mid, layer } or null.
async function watch(o, page, participant, name, checks) {
  const offer = await page.evaluate(() => viewerOffer());
  const url = `${o.url}/whep/${encodeURIComponent(o.room)}/${encodeURIComponent(participant)}`;
  const r = await page.evaluate(([u, s]) => post(u, s), [url, offer.sdp]);
  if (!checks.check(`${name}: WHEP POST 201`, r.status === 201 && !!r.location,
    `status ${r.status}${r.status === 201 ? '' : ', ' + r.body.trim().slice(0, 200)}`)) return null;
  const layer = layerUrl(r.link, url);
  checks.check(`${name}: 201 carries the layer selection Link`, !!layer, r.link || 'no Link');
  await page.evaluate((s) => applyAnswer(s), r.body);
  return { session: { page, url: r.location, who: name }, mid: midOf(videoSection(r.body)), layer };
}

// whep_video_viewer.py: resolves to its JSON line (plus `code`).
function aiortcViewer(o, participant) {
  return new Promise((resolve) => {
    const child = spawn(o.python, [join(HERE, 'whep_video_viewer.py'), '--url', o.url, '--room', o.room,
      '--participant', participant, '--seconds', '5'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (d) => { text += d; });
    child.on('close', (code) => {
      const line = text.trim().split('\n').pop() || '';
      try { resolve({ code, ...JSON.parse(line) }); } catch { resolve({ code, error: text.trim() }); }
    });
  });
}

async function videoIn(page) {
  const s = await page.evaluate(() => stats());
  return { t: s.t, frames: s.inbound?.framesDecoded || 0, width: s.inbound?.width || 0,
           height: s.inbound?.height || 0, freezes: s.inbound?.freezes || 0 };
}

async function run(o, checks, [pub, viewA, viewB, call]) {
  const sessions = [];
  try {
    const offer = await pub.evaluate((opts) => publish(opts), {
      video: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } },
      sendEncodings: RIDS.map((rid, i) => ({ rid, scaleResolutionDownBy: 2 ** (RIDS.length - 1 - i) })),
    });
    const whip = await pub.evaluate(([u, s]) => post(u, s), [`${o.url}/whip/${encodeURIComponent(o.room)}`, offer.sdp]);
    if (!checks.check('WHIP POST 201', whip.status === 201 && !!whip.participant,
      `status ${whip.status}${whip.status === 201 ? '' : ', ' + whip.body.trim().slice(0, 200)}`)) return;
    sessions.push({ page: pub, url: whip.location, who: 'publisher' });
    const sim = (videoSection(whip.body).match(/^a=simulcast:.*$/m) || ['no a=simulcast'])[0].trim();
    checks.check('WHIP answer keeps simulcast (a=simulcast:recv q;h;f)', sim === 'a=simulcast:recv q;h;f', sim);
    await pub.evaluate((s) => applyAnswer(s), whip.body);

    const a = await watch(o, viewA, whip.participant, 'viewer A (automatic)', checks);
    const b = await watch(o, viewB, whip.participant, 'viewer B (lowest)', checks);
    if (!a || !b) return;
    sessions.push(a.session, b.session);
    const states = await Promise.all([pub, viewA, viewB].map((p) => p.evaluate(() => connected(15000))));
    if (!checks.check('publisher and both viewers connected', states.every((s) => s === 'connected'),
      states.join(', '))) return;

    // Chromium starts the top encoding only once its bandwidth estimate
    // allows, and drops it while CPU-limited (a busy machine): wait until all
    // three produce frames, so that the layers' ranking is settled before B
    // pins by rid.
    const tw = Date.now();
    let producing = [];
    for (let prev = null; Date.now() - tw < 25000;) {
      const now = await pub.evaluate(() => stats());
      if (prev) {
        const was = new Map(prev.outbound.map((e) => [e.rid, e.framesEncoded]));
        producing = now.outbound.filter((e) => e.framesEncoded > (was.get(e.rid) ?? 0));
        if (producing.length === RIDS.length) break;
      }
      prev = now;
      await sleep(1000);
    }
    console.log(`INFO all three encodings producing after ${((Date.now() - tw) / 1000).toFixed(1)} s `
      + `(${producing.map((e) => e.rid).join(',')})`);

    if (b.layer) {
      const bad = await postJson(viewB, b.layer, '{"mediaId":"' + b.mid + '","spatialLayerId":1}');
      checks.check('bad layer request answered 400 with a reason', bad.status === 400 && bad.text.length > 1,
        `${bad.status} ${bad.text.trim()}`);
      const unknown = await postJson(viewB, b.layer, `{"mediaId":"${b.mid}","encodingId":"zz"}`);
      checks.check('unknown encodingId answered 400', unknown.status === 400, `${unknown.status} ${unknown.text.trim()}`);
      const pin = await postJson(viewB, b.layer, JSON.stringify({ mediaId: b.mid, encodingId: 'q' }));
      checks.check('viewer B pins encodingId q: 204', pin.status === 204, `${pin.status} ${pin.text.trim()}`);
    }

    const aio = aiortcViewer(o, whip.participant);
    await sleep(Number(o.warmup) * 1000);
    const [p1, a1, b1] = [await pub.evaluate(() => stats()), await videoIn(viewA), await videoIn(viewB)];
    await sleep(Number(o.seconds) * 1000);
    const [p2, a2, b2] = [await pub.evaluate(() => stats()), await videoIn(viewA), await videoIn(viewB)];
    const out = new Map(p2.outbound.map((e) => [e.rid, e]));
    const before = new Map(p1.outbound.map((e) => [e.rid, e.framesEncoded]));
    const encFps = (rid) => ((out.get(rid)?.framesEncoded || 0) - (before.get(rid) || 0)) / ((p2.t - p1.t) / 1000);
    console.log('INFO publisher encodings: ' + RIDS.map((rid) => {
      const e = out.get(rid) || {};
      return `${rid} ${e.width}x${e.height} ${encFps(rid).toFixed(1)} fps${e.limit && e.limit !== 'none' ? ' (limited: ' + e.limit + ')' : ''}`;
    }).join(', '));
    checks.check('publisher sends three encodings, each producing frames',
      RIDS.every((rid) => encFps(rid) > 0), RIDS.map((rid) => `${rid} ${encFps(rid).toFixed(1)}/s`).join(', '));
    const top = out.get('f') || {}, low = out.get('q') || {};
    const fps = (x1, x2) => (x2.frames - x1.frames) / ((x2.t - x1.t) / 1000);
    const fa = fps(a1, a2), fb = fps(b1, b2);
    console.log(`INFO viewer A ${a2.width}x${a2.height} ${fa.toFixed(1)} fps (freezes ${a2.freezes}); `
      + `viewer B ${b2.width}x${b2.height} ${fb.toFixed(1)} fps; top layer ${top.width}x${top.height}, `
      + `lowest ${low.width}x${low.height}`);
    checks.check(`viewer A decodes the top layer at >= ${o['min-fps']} fps`,
      top.width > 0 && a2.width === top.width && fa >= Number(o['min-fps']),
      `${a2.width}x${a2.height} at ${fa.toFixed(1)} fps over ${((a2.t - a1.t) / 1000).toFixed(1)} s`);
    checks.check('viewer B decodes the lowest layer (pinned)',
      low.width > 0 && b2.width === low.width && b2.width < top.width && fb > 0.5 * Number(o['min-fps']),
      `${b2.width}x${b2.height} at ${fb.toFixed(1)} fps`);

    const ai = await aio;
    console.log(`INFO aiortc viewer: ${JSON.stringify(ai)}`);
    checks.check('an aiortc viewer (no transport-cc) gets the top layer',
      ai.connected && ai.width === top.width && ai.fps > 5,
      `${ai.width}x${ai.height} at ${ai.fps} fps, transport-cc offered: ${ai.offer_twcc}`);

    const room = await getRoom(o);
    const pubJson = room?.participants?.find((p) => p.participant === whip.participant);
    const vtrack = pubJson?.tracks?.find((t) => t.kind === 'video');
    const layers = vtrack?.layers || [];
    checks.check('GET /rooms shows the three layers, lowest first, with sizes and bitrates',
      layers.length === 3 && layers.map((l) => l.rid).join() === 'q,h,f'
        && layers.every((l) => l.active && l.bitrate_bps > 0) && layers[2].width === top.width,
      JSON.stringify(layers));
    const viewers = room?.viewers || [];
    const cur = viewers.map((v) => v.receiving?.[0]).filter(Boolean);
    checks.check('GET /rooms shows each viewer\'s layer (A top automatic, B lowest capped)',
      viewers.length >= 2 && cur.some((k) => k.current === 2 && k.max === null)
        && cur.some((k) => k.current === 0 && k.max === 0),
      JSON.stringify(viewers));

    if (b.layer) {
      const auto = await postJson(viewB, b.layer, JSON.stringify({ mediaId: b.mid }));
      checks.check('viewer B back to automatic: 204', auto.status === 204, `${auto.status} ${auto.text.trim()}`);
      let w = 0;
      // up waits for the estimate and the 2 s hold (the issue: back within 10 s)
      for (let i = 0; i < 48 && w !== top.width; i++) { await sleep(250); w = (await videoIn(viewB)).width; }
      checks.check('viewer B gets the top layer again', w === top.width, `${w} wide`);
    }

    // A participant of the call page: a room session.
    await call.setViewportSize({ width: 1920, height: 1080 });
    await call.goto(`${o.url}/`);
    await call.fill('#name', 'Tess');
    await call.fill('#room', o.room);
    await call.click('#join');
    let tile = null;
    const t0 = Date.now();
    while (Date.now() - t0 < 20000) {
      const snap = await call.evaluate(() => window.sfuPage.snapshot());
      tile = snap.tiles.find((t) => t.participant === whip.participant);
      if (tile?.stats?.width === top.width && tile.stats.frames > 0) break;
      await sleep(500);
    }
    console.log(`INFO call page tile of the publisher: ${JSON.stringify(tile?.stats || null)}`);
    checks.check('a call page participant receives the top layer',
      tile?.stats?.width === top.width, `${tile?.stats?.width}x${tile?.stats?.height} at ${tile?.stats?.fps} fps`);
    // The room session's estimate starts low and rises (probes): its layer
    // follows it, so wait for the top layer rather than sample once.
    let tess = null;
    for (const t2 = Date.now(); Date.now() - t2 < 20000; await sleep(500)) {
      const room2 = await getRoom(o);
      tess = room2?.participants?.find((p) => p.name === 'Tess');
      if ((tess?.receiving || []).some((k) => k.current === 2 && k.layers === 3)) break;
    }
    checks.check('GET /rooms shows the room participant\'s received layers',
      Array.isArray(tess?.receiving) && tess.receiving.some((k) => k.current === 2 && k.layers === 3),
      JSON.stringify(tess?.receiving));

    // A small window: the tile asks for a small layer and gets it.
    await call.setViewportSize({ width: 480, height: 360 });
    let small = null;
    const t1 = Date.now();
    while (Date.now() - t1 < 15000) {
      const snap = await call.evaluate(() => window.sfuPage.snapshot());
      small = snap.tiles.find((t) => t.participant === whip.participant);
      if (small?.stats?.width > 0 && small.stats.width < top.width) break;
      await sleep(500);
    }
    const room3 = await getRoom(o);
    const tess3 = room3?.participants?.find((p) => p.name === 'Tess');
    const capped = (tess3?.receiving || []).find((k) => k.layers === 3);
    console.log(`INFO small call page tile: ${JSON.stringify(small?.stats || null)}, receiving ${JSON.stringify(capped)}`);
    checks.check('a small call page tile asks for a small layer and gets it',
      capped && capped.max !== null && capped.max < 2 && small?.stats?.width > 0 && small.stats.width < top.width,
      `${small?.stats?.width}x${small?.stats?.height}, cap ${capped?.max}, current ${capped?.current}`);
    await call.click('#leave').catch(() => {});
  } finally {
    await deleteSessions(sessions, checks);
  }
}

async function main() {
  const o = options();
  const checks = new Checks();
  console.log(`INFO room ${o.room}, ${o.url}`);
  await withPages(o, checks, 4, (pages) => run(o, checks, pages));
  process.exitCode = checks.summary();
}

main();
