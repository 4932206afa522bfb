// Shared parts of the Firefox tests (firefox_whip_whep.mjs, firefox_call.mjs):
// launching Debian's firefox-esr through puppeteer-core over WebDriver BiDi
// with the prefs from /work/shared/TESTING.md, kept off the network; a
// test page whose WebRTC and fetch calls run in the browser and that works
// the same in Firefox and Chromium; getStats() digests both browsers fill.
//
// What Firefox needs that Chromium does not:
//   - it gathers only the default-route address, never 127.0.0.1, unless the
//     page holds a camera and microphone permission (fake devices do not
//     count): a default-permissions file grants both to the test origins and
//     `permissions.manager.defaultsUrl` points at it;
//   - remote settings would be fetched from the network: the server pref
//     points at a closed loopback port, which a release build honours only
//     with MOZ_REMOTE_SETTINGS_DEVTOOLS=1 in the environment;
//   - several pages of one test share the browser as tabs: background-tab
//     timer throttling and video suspension are turned off.
// puppeteer's page.evaluate(fn, ...args) and playwright's page.evaluate(fn,
// arg) differ; Tab hides that.

import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS } from './chromium_lib.mjs';

export const FIREFOX = '/usr/bin/firefox-esr';

// A loopback TCP port nobody listens on (bound, then released): where the
// remote-settings, telemetry and other service URLs point.
function closedPort() {
  return new Promise((resolve, reject) => {
    const s = createTcpServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function firefoxPrefs(dead, permissionsFile) {
  const nowhere = `http://127.0.0.1:${dead}/`;
  return {
    // WebRTC on loopback with fake devices and no prompt.
    'media.navigator.streams.fake': true,
    'media.navigator.permission.disabled': true,
    'media.peerconnection.ice.loopback': true,
    'media.peerconnection.ice.obfuscate_host_addresses': false,
    'media.peerconnection.ice.default_address_only': false,
    'media.peerconnection.ice.no_host': false,
    'media.peerconnection.ice.proxy_only': false,
    'media.peerconnection.default_iceservers': '[]',
    'media.autoplay.default': 0,
    'media.autoplay.blocking_policy': 0,
    'permissions.manager.defaultsUrl': `file://${permissionsFile}`,
    // Tabs in the background keep their pace.
    'dom.min_background_timeout_value': 4,
    'dom.timeout.enable_budget_timer_throttling': false,
    'media.suspend-bkgnd-video.enabled': false,
    'media.block-autoplay-until-in-foreground': false,
    // Off the network: no proxy discovery, DNS-over-HTTPS, captive portal or
    // connectivity probes, push, telemetry, remote settings, region lookup,
    // add-on and system add-on updates, safe browsing lists, prefetching.
    'network.proxy.type': 0,
    'network.trr.mode': 5,
    'network.captive-portal-service.enabled': false,
    'network.connectivity-service.enabled': false,
    'network.dns.disablePrefetch': true,
    'network.prefetch-next': false,
    'network.predictor.enabled': false,
    'captivedetect.canonicalURL': nowhere,
    'dom.push.enabled': false,
    'dom.push.connection.enabled': false,
    'dom.push.serverURL': nowhere,
    'toolkit.telemetry.enabled': false,
    'toolkit.telemetry.unified': false,
    'toolkit.telemetry.archive.enabled': false,
    'toolkit.telemetry.server': nowhere,
    'datareporting.policy.dataSubmissionEnabled': false,
    'app.normandy.enabled': false,
    'app.shield.optoutstudies.enabled': false,
    'app.update.enabled': false,
    'app.update.auto': false,
    'services.settings.server': `${nowhere}v1`,
    'messaging-system.rsexperimentloader.enabled': false,
    'security.remote_settings.crlite_filters.enabled': false,
    'security.remote_settings.intermediates.enabled': false,
    'extensions.blocklist.enabled': false,
    'extensions.systemAddon.update.enabled': false,
    'extensions.systemAddon.update.url': nowhere,
    'extensions.update.url': nowhere,
    'browser.region.network.url': nowhere,
    'browser.region.update.enabled': false,
    'geo.provider.network.url': nowhere,
    'browser.safebrowsing.provider.google4.updateURL': nowhere,
    'browser.safebrowsing.provider.mozilla.updateURL': nowhere,
    'browser.newtabpage.activity-stream.feeds.topsites': false,
    'browser.topsites.contile.enabled': false,
    'browser.discovery.enabled': false,
    'security.OCSP.enabled': 0,
    'media.gmp-manager.url': nowhere,
    'media.gmp-gmpopenh264.enabled': false,
  };
}

// Firefox's default-permissions file: "origin<TAB>type<TAB>1(allow)<TAB>origin".
function writePermissions(dir, origins) {
  const file = join(dir, 'permissions');
  writeFileSync(file, origins.flatMap((o) => ['camera', 'microphone']
    .map((t) => `origin\t${t}\t1\t${o}`)).join('\n') + '\n');
  return file;
}

/**
 * Launches headless Firefox with a fresh profile. `origins` are the page
 * origins allowed camera and microphone (so Firefox gathers 127.0.0.1).
 * Returns { browser, version, close() }.
 */
export async function launchFirefox({ origins, executablePath = FIREFOX }) {
  const dir = mkdtempSync(join(tmpdir(), 'e2e-firefox-'));
  const permissions = writePermissions(dir, origins);
  const prefs = firefoxPrefs(await closedPort(), permissions);
  let browser = null;
  try {
    browser = await puppeteer.launch({
      browser: 'firefox', executablePath, protocol: 'webDriverBiDi', headless: true,
      userDataDir: join(dir, 'profile'), extraPrefsFirefox: prefs,
      env: { ...process.env, MOZ_REMOTE_SETTINGS_DEVTOOLS: '1', MOZ_HEADLESS: '1' },
      defaultViewport: { width: 660, height: 520 },
    });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const version = await browser.version().catch(() => '?');
  return {
    browser, version,
    async close() {
      await browser.close().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// Without it Chromium looks up accounts.google.com and clients2.google.com
// through the system resolver (seen with strace); tests use addresses.
const NO_DNS = '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1';

/** Launches Debian's Chromium (playwright-core) with a fresh profile. */
export async function launchChromium({ executablePath = '/usr/bin/chromium', args = [] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'e2e-chromium-'));
  let context = null;
  try {
    context = await chromium.launchPersistentContext(dir, {
      executablePath, headless: true, args: [...CHROMIUM_ARGS, NO_DNS, ...args],
      permissions: ['camera', 'microphone'], viewport: { width: 660, height: 520 },
    });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    context, version: context.browser()?.version() || '?',
    async close() {
      await context.close().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * One page in either browser, behind one calling convention:
 * `call(name, ...args)` runs the page's global function `name` and returns
 * its (JSON) result; `eval(fn, arg)` runs fn(arg) in the page (one argument
 * only: what puppeteer's and playwright's evaluate() have in common).
 */
export class Tab {
  constructor(page, who, kind) {
    this.page = page;
    this.who = who;           // e.g. 'Firefox publisher'
    this.kind = kind;         // 'firefox' | 'chromium'
    this.errors = [];
    page.on('pageerror', (e) => this.errors.push(`${who}: ${e.message || e}`));
  }

  static async open(browser, kind, who, url, initScript) {
    const page = kind === 'firefox' ? await browser.browser.newPage() : await browser.context.newPage();
    const tab = new Tab(page, who, kind);
    if (initScript) {
      if (kind === 'firefox') await page.evaluateOnNewDocument(initScript);
      else await page.addInitScript(initScript);
    }
    await page.goto(url);
    return tab;
  }

  eval(fn, arg) { return this.page.evaluate(fn, arg); }

  call(name, ...args) {
    return this.eval(([n, a]) => window[n](...a), [name, args]);
  }

  screenshot(path) { return this.page.screenshot({ path }); }
}

// Runs in every page before its own scripts: keeps each RTCPeerConnection
// the page makes in window.__pcs, so a test can read getStats() of the call
// page's connection too, and every SDP the page sends with fetch (POST or
// PATCH, application/sdp) in window.__sentSdp, as sent.
export const KEEP_PCS = `(() => {
  const Native = window.RTCPeerConnection;
  window.__pcs = [];
  window.RTCPeerConnection = function (...a) { const pc = new Native(...a); window.__pcs.push(pc); return pc; };
  window.RTCPeerConnection.prototype = Native.prototype;
  Object.setPrototypeOf(window.RTCPeerConnection, Native);
  window.__sentSdp = [];
  const nativeFetch = window.fetch;
  window.fetch = function (url, init) {
    const h = init && init.headers;
    const type = h && (h instanceof Headers ? h.get('Content-Type') : (h['Content-Type'] || h['content-type']));
    if (type === 'application/sdp' && typeof init.body === 'string') {
      window.__sentSdp.push({ method: init.method || 'GET', url: String(url), sdp: init.body });
    }
    return nativeFetch.apply(this, arguments);
  };
})();`;

// Runs in a page (both browsers): a digest of pc.getStats(). `pc` defaults
// to the last PeerConnection kept by KEEP_PCS.
export const STATS_FN = `async function pcStats(pc) {
  pc = pc || window.__pcs[window.__pcs.length - 1];
  const all = await pc.getStats();
  const byId = new Map();
  all.forEach((s) => byId.set(s.id, s));
  const codecOf = (s) => (s.codecId && byId.get(s.codecId)) || {};
  const out = { outbound: [], inbound: [], audioIn: 0, audioOut: 0, ciphers: [], dtlsCiphers: [],
                pair: null, t: performance.now() };
  let pair = null;
  all.forEach((s) => {
    if (s.type === 'outbound-rtp' && s.kind === 'video') {
      out.outbound.push({ ssrc: s.ssrc, frames: s.framesEncoded || 0, width: s.frameWidth || 0,
        height: s.frameHeight || 0, mime: codecOf(s).mimeType || '' });
    }
    if (s.type === 'outbound-rtp' && s.kind === 'audio') out.audioOut += s.packetsSent || 0;
    if (s.type === 'inbound-rtp' && s.kind === 'video') {
      out.inbound.push({ mid: s.mid, frames: s.framesDecoded || 0, packets: s.packetsReceived || 0,
        lost: s.packetsLost || 0, nacks: s.nackCount || 0, plis: s.pliCount || 0,
        firs: s.firCount || 0, width: s.frameWidth || 0, height: s.frameHeight || 0,
        mime: codecOf(s).mimeType || '' });
    }
    if (s.type === 'inbound-rtp' && s.kind === 'audio') out.audioIn += s.packetsReceived || 0;
    if (s.type === 'transport') {
      if (s.srtpCipher) out.ciphers.push(s.srtpCipher);
      if (s.dtlsCipher) out.dtlsCiphers.push(s.dtlsCipher);
      if (s.selectedCandidatePairId) pair = byId.get(s.selectedCandidatePairId);
    }
    // No selectedCandidatePairId (older Firefox): the pair says selected: true.
    if (s.type === 'candidate-pair' && s.selected && !pair) pair = s;
  });
  if (pair) {
    const l = byId.get(pair.localCandidateId) || {}, r = byId.get(pair.remoteCandidateId) || {};
    out.pair = { local: { protocol: l.protocol, address: l.address, port: l.port, type: l.candidateType },
                 remote: { protocol: r.protocol, address: r.address, port: r.port, type: r.candidateType },
                 rtt: pair.currentRoundTripTime };
  }
  return out;
}`;

// The WHIP/WHEP test page. Its offers are the browser's own, unmodified.
const PAGE = `<!doctype html><meta charset="utf-8"><title>e2e</title>
<style>body{margin:0;background:#222;color:#eee;font:14px sans-serif}
video{width:640px;height:480px;background:#000;display:block}</style>
<div id="role">idle</div><video id="v" autoplay muted playsinline></video>
<script>
${KEEP_PCS}
${STATS_FN}
let pc = null;
const log = (s) => { document.getElementById('role').textContent = s; };
async function gathered(timeoutMs) {
  if (pc.iceGatheringState === 'complete') return;
  await new Promise((resolve) => {
    const t = setTimeout(resolve, timeoutMs);
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') { clearTimeout(t); resolve(); }
    });
  });
}
// opts.bundlePolicy: 'balanced' (the default) or 'max-bundle'.
async function publish(opts) {
  log('publisher');
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  document.getElementById('v').srcObject = stream;
  pc = new RTCPeerConnection({ bundlePolicy: (opts && opts.bundlePolicy) || 'balanced' });
  pc.addTransceiver(stream.getAudioTracks()[0], { direction: 'sendonly', streams: [stream] });
  pc.addTransceiver(stream.getVideoTracks()[0], { direction: 'sendonly', streams: [stream] });
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(5000);
  return { sdp: pc.localDescription.sdp };
}
async function viewerOffer(opts) {
  log('viewer');
  pc = new RTCPeerConnection({ bundlePolicy: (opts && opts.bundlePolicy) || 'balanced' });
  const ms = new MediaStream();
  document.getElementById('v').srcObject = ms;
  pc.ontrack = (e) => ms.addTrack(e.track);
  pc.addTransceiver('audio', { direction: 'recvonly' });
  pc.addTransceiver('video', { direction: 'recvonly' });
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(5000);
  return { sdp: pc.localDescription.sdp };
}
async function applyAnswer(sdp) {
  try { await pc.setRemoteDescription({ type: 'answer', sdp }); return ''; } catch (e) { return String(e); }
}
async function post(url, sdp) {
  const r = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: sdp });
  const loc = r.headers.get('Location');
  return { status: r.status, body: await r.text(),
           location: loc ? new URL(loc, url).href : null,
           participant: r.headers.get('X-Participant-Id') };
}
async function del(url) { return (await fetch(url, { method: 'DELETE' })).status; }
async function connected(timeoutMs) {
  const t0 = Date.now();
  while (pc.connectionState !== 'connected') {
    if (pc.connectionState === 'failed' || Date.now() - t0 > timeoutMs) return pc.connectionState;
    await new Promise((r) => setTimeout(r, 50));
  }
  return 'connected';
}
function videoWidth() { return document.getElementById('v').videoWidth; }
function close() { if (pc) pc.close(); }
</script>`;

/** Serves PAGE on a loopback port; resolves to { server, url }. */
export function servePage() {
  const server = createHttpServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(PAGE);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1',
    () => resolve({ server, url: `http://127.0.0.1:${server.address().port}/` })));
}

export function pairText(p) {
  if (!p) return 'no selected pair';
  return `${p.local.type} ${p.local.protocol} ${p.local.address}:${p.local.port} -> `
    + `${p.remote.type} ${p.remote.protocol} ${p.remote.address}:${p.remote.port}`;
}
