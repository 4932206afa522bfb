#!/usr/bin/env node
// The call page (web/) with Firefox and Chromium in one room session:
//   - Ada (Firefox, fake devices) and Grace (Chromium, fake devices) join
//     from the page; Firefox's join offer is max-bundle (port 0 +
//     a=bundle-only), and it then answers the SFU's offers;
//   - each page shows one remote tile, with the other's name, decoding video
//     (framesDecoded rising) and receiving audio; the offer's mid map agrees
//     with msid;
//   - Ada leaves (Leave button): Grace drops her tile within 2 s; Ada joins
//     again and both decode each other again;
//   - both leave (DELETE 200), the room is gone (404).
// Prints the figures: fps and resolution each way, SRTP/DTLS ciphers and the
// selected candidate pair of both browsers.
//
//   node tests/e2e/firefox_call.mjs --url http://127.0.0.1:PORT [--screenshot FILE]
//       [--save-sdp DIR] [--room NAME] [--firefox PATH] [--chromium PATH]
// --save-sdp writes Firefox's join offer as sent (for tests/data/sdp/).
// Prints one PASS/FAIL line per check, then "N passed, M failed"; exit 0
// only when all passed. Needs Debian firefox-esr and chromium, `npm ci` here.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Checks, randomRoom, sleep } from './chromium_lib.mjs';
import { KEEP_PCS, STATS_FN, Tab, launchChromium, launchFirefox, pairText } from './firefox_lib.mjs';

const GCM = ['SRTP_AEAD_AES_256_GCM', 'SRTP_AEAD_AES_128_GCM'];

function options() {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      room: { type: 'string' },
      screenshot: { type: 'string' },
      'save-sdp': { type: 'string' },
      firefox: { type: 'string', default: '/usr/bin/firefox-esr' },
      chromium: { type: 'string', default: '/usr/bin/chromium' },
      timeout: { type: 'string', default: '15' },
    },
  });
  if (!values.url) {
    console.error('usage: firefox_call.mjs --url http://127.0.0.1:PORT [--screenshot FILE]');
    process.exit(2);
  }
  values.url = values.url.replace(/\/+$/, '');
  values.room ??= randomRoom('ffcall');
  values.timeoutMs = Number(values.timeout) * 1000;
  return values;
}

// The page's own CSP allows no inline script; the init script (KEEP_PCS
// plus the stats digest) is the browser's, not the page's.
const INIT = `${KEEP_PCS}\nwindow.pcStats = ${STATS_FN};`;

class Person {
  constructor(name, tab) {
    this.name = name;
    this.tab = tab;
    this.id = '';
  }

  snapshot() { return this.tab.eval(() => window.sfuPage.snapshot()); }

  /** Fills the form, clicks Join, waits for the participant id. */
  async join(o) {
    const before = await this.tab.eval(() => window.__sentSdp.length);
    await this.tab.eval(([name, room]) => {
      document.getElementById('name').value = name;
      document.getElementById('room').value = room;
      document.getElementById('join').click();
    }, [this.name, o.room]);
    const t0 = Date.now();
    let s = await this.snapshot();
    while (!s.participant && Date.now() - t0 < o.timeoutMs) {
      await sleep(100);
      s = await this.snapshot();
    }
    this.id = s.participant;
    const sent = await this.tab.eval(() => window.__sentSdp);
    this.joinOffer = sent.slice(before).find((x) => x.method === 'POST' && x.url.includes('/join'))?.sdp || '';
    return this.id;
  }

  async waitConnected(o) {
    const t0 = Date.now();
    while (Date.now() - t0 < o.timeoutMs) {
      const s = await this.snapshot();
      if (s.connectionState === 'connected' || s.connectionState === 'failed') return s.connectionState;
      await sleep(150);
    }
    return 'timeout';
  }

  /** Waits until the tile of `other` shows video; returns the wait in ms or null. */
  async waitTile(other, o) {
    const t0 = Date.now();
    while (Date.now() - t0 < o.timeoutMs) {
      const s = await this.snapshot();
      const t = s.tiles.find((x) => x.participant === other.id);
      if (t && t.video && t.totals.frames > 0) return Date.now() - t0;
      await sleep(150);
    }
    return null;
  }

  async leave() {
    await this.tab.eval(() => document.getElementById('leave').click());
    const t0 = Date.now();
    while (Date.now() - t0 < 5000) {
      const s = await this.snapshot();
      if (!s.participant && s.connectionState === 'closed') return true;
      await sleep(100);
    }
    return false;
  }

  stats() { return this.tab.eval(() => window.pcStats()); }
}

// Two snapshots of both pages 3 s apart (one window for both), then each
// page's checks: the other's tile decodes video and gets audio.
async function checkMediaBoth(ada, grace, checks, label) {
  const take = (p) => Promise.all([p.snapshot(), p.stats()]);
  const a = await Promise.all([take(ada), take(grace)]);
  await sleep(3000);
  const b = await Promise.all([take(ada), take(grace)]);
  await checkMedia(ada, grace, a[0], b[0], checks, label);
  await checkMedia(grace, ada, a[1], b[1], checks, label);
}

async function checkMedia(me, other, [a, sa], [b, sb], checks, label) {
  const ta = a.tiles.find((t) => t.participant === other.id);
  const tb = b.tiles.find((t) => t.participant === other.id);
  if (!checks.check(`${label}: ${me.name} has a tile for ${other.name}`, !!ta && !!tb,
    `tiles ${b.tiles.map((t) => t.name).join(', ') || 'none'}`)) return;
  checks.check(`${label}: ${me.name} shows ${other.name}'s name`, tb.name === other.name, JSON.stringify(tb.name));
  const secs = (sb.t - sa.t) / 1000;
  const fps = (tb.totals.frames - ta.totals.frames) / secs;
  const aps = (tb.totals.audioPackets - ta.totals.audioPackets) / secs;
  const vin = sb.inbound.filter((x) => x.frames > 0);
  const res = vin.map((x) => `${x.width}x${x.height} ${x.mime}`).join(', ');
  console.log(`INFO ${label}: ${me.name} (${me.tab.kind}) decodes ${other.name}'s video at ${fps.toFixed(1)} fps `
    + `(${res}), audio ${aps.toFixed(0)} packets/s; lost ${vin.reduce((n, x) => n + x.lost, 0)}, `
    + `NACKs ${vin.reduce((n, x) => n + x.nacks, 0)}, PLIs ${vin.reduce((n, x) => n + x.plis, 0)}`);
  checks.check(`${label}: ${me.name} decodes ${other.name}'s video`, fps >= 10, `${fps.toFixed(1)} frames/s`);
  checks.check(`${label}: ${me.name} gets ${other.name}'s audio`, aps >= 25 && tb.kinds.includes('audio'),
    `${aps.toFixed(0)} packets/s, tracks ${tb.kinds.join('+')}`);
  const w = await me.tab.eval((pid) => {
    const v = document.querySelector(`.tile[data-participant="${pid}"] video`);
    return v ? v.videoWidth : -1;
  }, other.id);
  checks.check(`${label}: ${me.name}'s tile for ${other.name} shows a picture`, w > 0, `videoWidth ${w}`);
  const bad = Object.entries(b.mids).filter(([mid, info]) => b.msids[mid] && b.msids[mid] !== info.participant);
  checks.check(`${label}: ${me.name}'s offer tracks map agrees with msid`, bad.length === 0,
    bad.length ? JSON.stringify(bad) : `${Object.keys(b.mids).length} mids`);
}

async function transportFigures(people, checks, label) {
  for (const p of people) {
    const s = await p.stats();
    console.log(`INFO ${label}: ${p.name} (${p.tab.kind}): SRTP ${s.ciphers.join(',') || '?'}, `
      + `DTLS ${s.dtlsCiphers.join(',') || '?'}, pair ${pairText(s.pair)}`);
    if (p.tab.kind !== 'firefox') continue;
    checks.check(`${label}: ${p.name} SRTP profile AEAD-GCM`, s.ciphers.length > 0
      && s.ciphers.every((c) => GCM.includes(c)), s.ciphers.join(',') || 'none reported');
    checks.check(`${label}: ${p.name} host/UDP pair on 127.0.0.1`, !!s.pair && s.pair.local.type === 'host'
      && s.pair.local.protocol === 'udp' && s.pair.remote.address === '127.0.0.1', pairText(s.pair));
  }
}

async function run(o, ada, grace, checks) {
  for (const p of [ada, grace]) {
    const id = await p.join(o);
    checks.check(`${p.name} (${p.tab.kind}) joins`, !!id, `participant ${id || 'none'}`);
  }
  if (o['save-sdp'] && ada.joinOffer) {
    mkdirSync(o['save-sdp'], { recursive: true });
    writeFileSync(join(o['save-sdp'], 'firefox-room-join-offer.sdp'), ada.joinOffer);
    console.log(`INFO Firefox's join offer saved in ${o['save-sdp']}`);
  }
  checks.check(`${ada.name}'s join offer is max-bundle`, /\r\nm=video 0 [^\r]*\r\n(?:[^m][^\r]*\r\n)*a=bundle-only/.test(ada.joinOffer),
    ada.joinOffer ? `${ada.joinOffer.length} bytes` : 'not captured');
  if (!ada.id || !grace.id) return;
  const states = await Promise.all([ada, grace].map((p) => p.waitConnected(o)));
  [ada, grace].forEach((p, i) => checks.check(`${p.name} connected`, states[i] === 'connected', states[i]));
  const waits = await Promise.all([ada.waitTile(grace, o), grace.waitTile(ada, o)]);
  console.log(`INFO first remote frame after ${waits.map((w) => (w === null ? 'never' : `${w} ms`)).join(' / ')} (Ada / Grace)`);
  await sleep(1500);
  await checkMediaBoth(ada, grace, checks, 'first join');
  await transportFigures([ada, grace], checks, 'first join');

  // Ada (Firefox) leaves and comes back: Grace's page drops her tile; both
  // renegotiate again.
  const t0 = Date.now();
  checks.check(`${ada.name} leaves (Leave button)`, await ada.leave());
  let gone = null;
  while (Date.now() - t0 < 5000) {
    const s = await grace.snapshot();
    if (!s.tiles.some((t) => t.participant === ada.id)) { gone = Date.now() - t0; break; }
    await sleep(100);
  }
  checks.check(`${grace.name} drops ${ada.name}'s tile within 2 s`, gone !== null && gone <= 2000,
    gone === null ? 'still there after 5 s' : `${gone} ms`);
  const oldId = ada.id;
  const id = await ada.join(o);
  checks.check(`${ada.name} joins again with a new id`, !!id && id !== oldId, `${oldId} -> ${id}`);
  const states2 = await Promise.all([ada.waitTile(grace, o), grace.waitTile(ada, o)]);
  checks.check('after rejoin: both show each other', states2.every((w) => w !== null),
    states2.map((w) => (w === null ? 'no' : `${w} ms`)).join(' / '));
  await sleep(1000);
  await checkMediaBoth(ada, grace, checks, 'after rejoin');
  if (o.screenshot) {
    await ada.tab.screenshot(o.screenshot);
    console.log(`INFO screenshot of ${ada.name}'s (Firefox) page: ${o.screenshot}`);
  }

  for (const p of [ada, grace]) checks.check(`${p.name} leaves`, await p.leave());
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
  console.log(`INFO room ${o.room}, page ${o.url}/`);
  let ff = null, cr = null;
  const tabs = [];
  try {
    [ff, cr] = await Promise.all([
      launchFirefox({ origins: [new URL(o.url).origin], executablePath: o.firefox }),
      launchChromium({ executablePath: o.chromium }),
    ]);
    console.log(`INFO ${ff.version}; Chromium ${cr.version}`);
    tabs.push(...await Promise.all([Tab.open(ff, 'firefox', 'Ada', `${o.url}/`, INIT),
                                    Tab.open(cr, 'chromium', 'Grace', `${o.url}/`, INIT)]));
    await run(o, new Person('Ada', tabs[0]), new Person('Grace', tabs[1]), checks);
  } catch (e) {
    checks.check('run without exceptions', false, e.stack || String(e));
  } finally {
    const errors = tabs.flatMap((t) => t.errors);
    checks.check('no page errors', errors.length === 0, errors.slice(0, 3).join('; '));
    await Promise.all([ff?.close(), cr?.close()]);
  }
  process.exitCode = checks.summary();
}

main();
