#!/usr/bin/env node
// The Chromium side of path_change.sh: a publisher and a viewer (WHIP,
// WHEP) whose network address changes under them, as a laptop's does when
// it moves to another network. path_change.sh runs this inside a network
// namespace; the script moves the namespace's address itself (`ip addr`,
// it runs as root in there), waits --outage seconds (longer than libnice's
// 10 s consent timeout, which used to end the sessions), then restarts ICE
// on both pages over PATCH /sessions/{id} (RFC 9725 4.3) as a non-trickle
// client does (gather, then PATCH). Then it moves the address again, waits
// --outage2 seconds, and both restart the other way round (PATCH the new
// credentials at once, then trickle the candidates).
//
//   node tests/e2e/chromium_path_change.mjs --url http://10.x.y.1:PORT \
//        --dev VETH --old-ip 10.x.y.2 --new-ip 10.x.y.3 --third-ip 10.x.y.4 --prefix 29
//
// Checks, one line each, then "N passed, M failed": both connect and the
// viewer decodes; for each move: both ICE restarts answer 200 (the sessions
// are still there), both reconnect within --max-connect-ms of the answer,
// both selected pairs use the new address, trickle PATCHes answer 204, and
// the viewer decodes new frames within --max-resume-ms (1000, issue 12's
// goal) of the start of the restarts; DELETE 200. Prints the times measured
// (FIGURE lines).

import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { Checks, COMMON_OPTIONS, bothConnected, deleteSessions, randomRoom, sleep, whipWhep,
         withBrowser } from './chromium_lib.mjs';

function options() {
  const { values } = parseArgs({
    options: { ...COMMON_OPTIONS, dev: { type: 'string' }, 'old-ip': { type: 'string' },
               'new-ip': { type: 'string' }, prefix: { type: 'string', default: '29' },
               'third-ip': { type: 'string' },
               outage: { type: 'string', default: '12' },
               outage2: { type: 'string', default: '3' },
               'max-connect-ms': { type: 'string', default: '2000' },
               'max-resume-ms': { type: 'string', default: '1000' } },
  });
  if (!values.url || !values.dev || !values['old-ip'] || !values['new-ip'] || !values['third-ip']) {
    console.error('usage: chromium_path_change.mjs --url URL --dev DEV --old-ip A --new-ip B --third-ip C');
    process.exit(2);
  }
  values.url = values.url.replace(/\/+$/, '');
  values.room ??= randomRoom('path');
  return values;
}

const decoded = async (page) => ((await page.evaluate(() => stats())).inbound || {}).framesDecoded || 0;

// The namespace's address moves `from` -> `to` (deleting first: a primary
// address takes its subnet's secondaries with it, promote_secondaries is
// off by default).
function moveAddress(o, from, to) {
  const ip = (...args) => execFileSync('ip', args, { stdio: 'pipe' });
  ip('addr', 'del', `${from}/${o.prefix}`, 'dev', o.dev);
  ip('addr', 'add', `${to}/${o.prefix}`, 'dev', o.dev);
  console.log(`INFO namespace addresses now: ${String(ip('-4', '-o', 'addr', 'show', 'dev', o.dev)).trim()}`);
}

async function pairStates(who, page) {
  const d = await page.evaluate(async () => {
    const out = [`ice ${pc.iceConnectionState} conn ${pc.connectionState}`];
    (await pc.getStats()).forEach((x) => {
      if (x.type === 'candidate-pair') out.push(`pair ${x.state} nominated=${x.nominated} `
        + `req ${x.requestsSent}/${x.responsesReceived} in ${x.requestsReceived}/${x.responsesSent}`);
    });
    return out.join('; ');
  });
  console.log(`INFO ${who}: ${d}`);
}

// One move and restart: both pages restart ICE with `how` ('iceRestart':
// gather, then PATCH, as a non-trickle client; 'iceRestartTrickle': PATCH
// first, then trickle). Returns the ms from the start of the restarts until
// the viewer decoded a new frame (-1: never).
async function movePhase(o, checks, { pub, view }, sessions, p) {
  moveAddress(o, p.from, p.to);
  const movedAt = Date.now();
  console.log(`INFO ${p.label}: address moved ${p.from} -> ${p.to}; waiting ${p.outage} s`);
  await sleep(Number(p.outage) * 1000);
  const states = await Promise.all([pub, view].map((x) => x.evaluate(() => pc.iceConnectionState)));
  console.log(`INFO after ${((Date.now() - movedAt) / 1000).toFixed(1)} s: publisher ICE ${states[0]}, `
    + `viewer ICE ${states[1]}`);
  const framesBefore = await decoded(view);
  const [whipUrl, whepUrl] = sessions.map((x) => x.url);
  const startAt = Date.now();
  const restarts = Promise.all([pub.evaluate(([f, u]) => globalThis[f](u), [p.how, whipUrl]),
                                view.evaluate(([f, u]) => globalThis[f](u), [p.how, whepUrl])]);
  let resumeMs = -1;
  const deadline = startAt + Number(o['max-resume-ms']) + 3000;
  const resumed = (async () => {
    while (Date.now() < deadline) {
      if (await decoded(view) > framesBefore) { resumeMs = Date.now() - startAt; return; }
      await sleep(20);
    }
  })();
  const restarted = await restarts;
  for (const [who, res] of [['publisher', restarted[0]], ['viewer', restarted[1]]]) {
    checks.check(`${p.label}: ${who} ICE restart ${((startAt - movedAt) / 1000).toFixed(1)} s after `
      + 'the move: PATCH 200 (session kept)', res.status === 200,
      `status ${res.status}${res.status === 200 ? '' : ', ' + String(res.body).trim().slice(0, 120)}`);
  }
  await resumed;
  if (checks.failed > 0) return resumeMs;
  if (!await bothConnected(o, pub, view, checks)) return resumeMs;
  const limit = Number(o['max-connect-ms']);
  for (const [who, page] of [['publisher', pub], ['viewer', view]]) {
    const t = await page.evaluate(() => connectTiming());
    // With a short outage ICE may never have left `connected` (no event).
    const left = t.iceAt > 0;
    const all = t.connectedAt ? t.connectedAt - t.answerAt : t.iceAt - t.answerAt;
    checks.check(`${p.label}: ${who} reconnected within ${limit} ms of the restart answer`,
      !left || all <= limit, left ? `ICE ${(t.iceAt - t.answerAt).toFixed(0)} ms` : 'ICE never left connected');
    const s = await page.evaluate(() => stats());
    checks.check(`${p.label}: ${who} selected pair uses the new address`,
      !!s.pair && s.pair.local.address === p.to,
      s.pair ? `local ${s.pair.local.address}:${s.pair.local.port}, remote `
        + `${s.pair.remote.address}:${s.pair.remote.port}` : 'no pair');
  }
  if (p.how === 'iceRestartTrickle') {
    await sleep(300);
    const st = await view.evaluate(() => trickleStatuses.slice());
    checks.check(`${p.label}: viewer trickled its new candidates, each PATCH 204`,
      st.length > 0 && st.every((x) => x === 204), `statuses ${JSON.stringify(st)}`);
  }
  if (resumeMs < 0) {
    await pairStates('publisher', pub);
    await pairStates('viewer', view);
  }
  console.log(`FIGURE ${p.label}: viewer video back ${resumeMs} ms after the restarts started`);
  checks.check(`${p.label}: viewer decodes new frames within ${o['max-resume-ms']} ms of the restart`,
    resumeMs >= 0 && resumeMs <= Number(o['max-resume-ms']), `${resumeMs} ms`);
  return resumeMs;
}

async function run(o, checks, pages) {
  const { pub, view } = pages;
  const r = await whipWhep(o, pub, view, checks);
  try {
    if (checks.failed > 0 || r.sessions.length < 2) return;
    if (!await bothConnected(o, pub, view, checks)) return;
    await sleep(3000);
    const before = await decoded(view);
    if (!checks.check('viewer decodes before the move', before > 0, `${before} frames`)) return;
    // Past libnice's consent timeout, restarting as a non-trickle WHEP
    // client does: gather (Chromium checks the old generation from its new
    // address meanwhile), then PATCH.
    await movePhase(o, checks, pages, r.sessions, { label: 'restart-then-PATCH (non-trickle)',
      from: o['old-ip'], to: o['new-ip'], outage: o.outage, how: 'iceRestart' });
    if (checks.failed > 0) return;
    // A second move, restarting the other way round, before consent lapses.
    await movePhase(o, checks, pages, r.sessions, { label: 'PATCH-then-trickle',
      from: o['new-ip'], to: o['third-ip'], outage: o['outage2'], how: 'iceRestartTrickle' });
  } finally {
    await deleteSessions(r.sessions, checks);
  }
}

async function main() {
  const o = options();
  const checks = new Checks();
  console.log(`INFO room ${o.room}, ${o.url}`);
  await withBrowser(o, checks, (pages) => run(o, checks, pages));
  process.exitCode = checks.summary();
}

main();
