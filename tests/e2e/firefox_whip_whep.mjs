#!/usr/bin/env node
// Firefox (Debian firefox-esr) with the SFU over WHIP and WHEP, next to
// Chromium, all at once:
//   - Firefox publishes (WHIP, bundle policy balanced: one transport per
//     m-line offered, RTCP-component candidates, VP8/VP9/AV1 with RTX, RED
//     and ULPFEC); a Firefox viewer (WHEP, max-bundle: port 0 +
//     a=bundle-only) and a Chromium viewer watch it;
//   - Chromium publishes; a second Firefox viewer (WHEP, balanced) watches.
// For each of the three viewers: WHIP/WHEP POST 201, both ends connected,
// the answer accepted, framesDecoded (the viewer's getStats) rising at >=
// --min-ratio of the publisher's framesEncoded rate, audio packets arriving,
// a picture in the <video>; each Firefox session on an AEAD-GCM SRTP profile
// over a host/UDP pair on 127.0.0.1; every DELETE 200. Prints the figures
// (fps, resolution, codec, SRTP and DTLS ciphers, candidate pair).
//
//   node tests/e2e/firefox_whip_whep.mjs --url http://127.0.0.1:PORT
//       [--screenshot FILE] [--save-sdp DIR] [--seconds 12] [--warmup 5]
//       [--min-ratio 0.85] [--firefox PATH] [--chromium PATH]
// --save-sdp writes the Firefox offers as sent (for tests/data/sdp/).
// Prints one PASS/FAIL line per check, then "N passed, M failed"; exit 0
// only when all passed. Needs Debian firefox-esr and chromium, `npm ci` here.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Checks, randomRoom, sleep } from './chromium_lib.mjs';
import { Tab, launchChromium, launchFirefox, pairText, servePage } from './firefox_lib.mjs';

const GCM = ['SRTP_AEAD_AES_256_GCM', 'SRTP_AEAD_AES_128_GCM'];

function options() {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      room: { type: 'string' },
      seconds: { type: 'string', default: '12' },
      warmup: { type: 'string', default: '5' },
      'min-ratio': { type: 'string', default: '0.85' },
      screenshot: { type: 'string' },
      'save-sdp': { type: 'string' },
      firefox: { type: 'string', default: '/usr/bin/firefox-esr' },
      chromium: { type: 'string', default: '/usr/bin/chromium' },
      'connect-timeout': { type: 'string', default: '15' },
    },
  });
  if (!values.url) {
    console.error('usage: firefox_whip_whep.mjs --url http://127.0.0.1:PORT [--screenshot FILE]');
    process.exit(2);
  }
  values.url = values.url.replace(/\/+$/, '');
  values.room ??= randomRoom('ff');
  return values;
}

// WHIP-publishes from `tab`; returns { whip, offer } or null after a FAIL.
async function publish(o, tab, room, opts, checks) {
  const offer = await tab.call('publish', opts);
  const whip = await tab.call('post', `${o.url}/whip/${encodeURIComponent(room)}`, offer.sdp);
  if (!checks.check(`${tab.who}: WHIP POST 201`, whip.status === 201 && !!whip.location && !!whip.participant,
    `status ${whip.status}` + (whip.status === 201 ? '' : `, body: ${whip.body.trim().slice(0, 300)}`))) {
    return { offer: offer.sdp };
  }
  const err = await tab.call('applyAnswer', whip.body);
  checks.check(`${tab.who}: answer accepted`, err === '', err);
  return { whip, offer: offer.sdp, session: { tab, url: whip.location } };
}

async function view(o, tab, room, publisher, opts, checks) {
  const offer = await tab.call('viewerOffer', opts);
  const url = `${o.url}/whep/${encodeURIComponent(room)}/${encodeURIComponent(publisher)}`;
  const whep = await tab.call('post', url, offer.sdp);
  if (!checks.check(`${tab.who}: WHEP POST 201`, whep.status === 201 && !!whep.location,
    `status ${whep.status}` + (whep.status === 201 ? '' : `, body: ${whep.body.trim().slice(0, 300)}`))) {
    return { offer: offer.sdp };
  }
  const err = await tab.call('applyAnswer', whep.body);
  checks.check(`${tab.who}: answer accepted`, err === '', err);
  return { whep, offer: offer.sdp, session: { tab, url: whep.location } };
}

const encoded = (s) => s.outbound.reduce((n, e) => n + e.frames, 0);
const decoded = (s) => s.inbound.reduce((n, e) => n + e.frames, 0);

async function run(o, checks, tabs) {
  const { ffPub, ffView, crView, crPub, ffView2 } = tabs;
  const roomF = o.room, roomC = o.room + '-c';
  const sessions = [];
  const sdp = {};
  try {
    // Publishers first, then the viewers of each.
    const pf = await publish(o, ffPub, roomF, { bundlePolicy: 'balanced' }, checks);
    const pc = await publish(o, crPub, roomC, { bundlePolicy: 'balanced' }, checks);
    sdp['whip-publish-offer'] = pf.offer;
    for (const p of [pf, pc]) if (p.session) sessions.push(p.session);
    if (!pf.whip || !pc.whip) return;
    const flows = [
      { pub: ffPub, view: ffView, room: roomF, id: pf.whip.participant, bundlePolicy: 'max-bundle' },
      { pub: ffPub, view: crView, room: roomF, id: pf.whip.participant, bundlePolicy: 'balanced' },
      { pub: crPub, view: ffView2, room: roomC, id: pc.whip.participant, bundlePolicy: 'balanced' },
    ];
    for (const f of flows) {
      const v = await view(o, f.view, f.room, f.id, { bundlePolicy: f.bundlePolicy }, checks);
      if (f.view.kind === 'firefox') sdp[`whep-${f.bundlePolicy}-recvonly-offer`] = v.offer;
      if (v.session) sessions.push(v.session);
      f.ok = !!v.session;
    }
    if (o['save-sdp']) {
      mkdirSync(o['save-sdp'], { recursive: true });
      for (const [k, text] of Object.entries(sdp)) writeFileSync(join(o['save-sdp'], `firefox-${k}.sdp`), text);
      console.log(`INFO Firefox offers saved in ${o['save-sdp']}`);
    }
    if (!flows.every((f) => f.ok)) return;

    const all = [ffPub, crPub, ffView, crView, ffView2];
    const timeout = Number(o['connect-timeout']) * 1000;
    const t0 = Date.now();
    const states = await Promise.all(all.map((t) => t.call('connected', timeout)));
    all.forEach((t, i) => checks.check(`${t.who}: connected`, states[i] === 'connected', states[i]));
    console.log(`INFO all connected in ${Date.now() - t0} ms`);
    if (states.some((s) => s !== 'connected')) return;

    const sample = () => Promise.all(all.map((t) => t.call('pcStats')));
    await sleep(Number(o.warmup) * 1000);
    const s1 = await sample();
    await sleep(Math.max(1, Number(o.seconds) - Number(o.warmup)) * 1000);
    const s2 = await sample();
    const at = (tab, s) => s[all.indexOf(tab)];
    const minRatio = Number(o['min-ratio']);

    for (const f of flows) {
      const name = `${f.pub.who} -> ${f.view.who}`;
      const p1 = at(f.pub, s1), p2 = at(f.pub, s2), v1 = at(f.view, s1), v2 = at(f.view, s2);
      const encRate = (encoded(p2) - encoded(p1)) / ((p2.t - p1.t) / 1000);
      const decRate = (decoded(v2) - decoded(v1)) / ((v2.t - v1.t) / 1000);
      const vi = v2.inbound[0] || {}, po = p2.outbound[0] || {};
      console.log(`INFO ${name}: encoded ${encRate.toFixed(1)} fps ${po.width}x${po.height} ${po.mime}; `
        + `decoded ${decRate.toFixed(1)} fps ${vi.width}x${vi.height} ${vi.mime}, packets ${vi.packets}, `
        + `lost ${vi.lost}, NACKs ${vi.nacks}, PLIs ${vi.plis}`);
      checks.check(`${name}: video decoded >= ${(minRatio * 100).toFixed(0)}% of the encoded rate`,
        encRate > 0 && decoded(v1) > 0 && decRate >= minRatio * encRate,
        `${decRate.toFixed(1)}/${encRate.toFixed(1)} frames/s`);
      checks.check(`${name}: audio arrives`, v1.audioIn > 0 && v2.audioIn > v1.audioIn + 20,
        `packetsReceived ${v1.audioIn} -> ${v2.audioIn}`);
      const w = await f.view.call('videoWidth');
      checks.check(`${name}: the viewer shows a picture`, w > 0, `<video> videoWidth ${w}`);
    }
    for (const t of all) {
      const s = at(t, s2);
      console.log(`INFO ${t.who}: SRTP ${s.ciphers.join(',') || '?'}, DTLS ${s.dtlsCiphers.join(',') || '?'}, `
        + `pair ${pairText(s.pair)}, rtt ${s.pair?.rtt ?? '?'} s`);
      if (t.kind !== 'firefox') continue;
      checks.check(`${t.who}: SRTP profile AEAD-GCM`, s.ciphers.length > 0 && s.ciphers.every((c) => GCM.includes(c)),
        s.ciphers.join(',') || 'none reported');
      const p = s.pair;
      checks.check(`${t.who}: host/UDP pair on 127.0.0.1`, !!p && p.local.type === 'host'
        && p.remote.type === 'host' && p.local.protocol === 'udp' && p.remote.address === '127.0.0.1',
      pairText(p));
    }
    if (o.screenshot) {
      await ffView2.screenshot(o.screenshot);
      console.log(`INFO screenshot of the Firefox viewer of Chromium: ${o.screenshot}`);
    }
  } finally {
    for (const s of sessions.reverse()) {
      const st = await s.tab.call('del', s.url).catch((e) => e.message);
      checks.check(`${s.tab.who}: DELETE 200`, st === 200, `status ${st}`);
    }
  }
}

async function main() {
  const o = options();
  const checks = new Checks();
  console.log(`INFO rooms ${o.room} (Firefox publishes), ${o.room}-c (Chromium publishes), ${o.url}`);
  const { server, url: pageUrl } = await servePage();
  let ff = null, cr = null;
  const tabs = {};
  try {
    [ff, cr] = await Promise.all([
      launchFirefox({ origins: [new URL(pageUrl).origin], executablePath: o.firefox }),
      launchChromium({ executablePath: o.chromium }),
    ]);
    console.log(`INFO ${ff.version}; Chromium ${cr.version}`);
    const open = (b, kind, who) => Tab.open(b, kind, who, pageUrl);
    [tabs.ffPub, tabs.ffView, tabs.ffView2, tabs.crPub, tabs.crView] = await Promise.all([
      open(ff, 'firefox', 'Firefox publisher'), open(ff, 'firefox', 'Firefox viewer (max-bundle)'),
      open(ff, 'firefox', 'Firefox viewer of Chromium'),
      open(cr, 'chromium', 'Chromium publisher'), open(cr, 'chromium', 'Chromium viewer')]);
    await run(o, checks, tabs);
  } catch (e) {
    checks.check('run without exceptions', false, e.stack || String(e));
  } finally {
    const errors = Object.values(tabs).flatMap((t) => t.errors);
    checks.check('no page errors', errors.length === 0, errors.slice(0, 3).join('; '));
    await Promise.all(Object.values(tabs).map((t) => t.call('close').catch(() => {})));
    await Promise.all([ff?.close(), cr?.close()]);
    server.close();
  }
  process.exitCode = checks.summary();
}

main();
