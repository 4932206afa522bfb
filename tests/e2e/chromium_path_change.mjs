#!/usr/bin/env node
// The Chromium side of path_change.sh: a publisher and a viewer (WHIP,
// WHEP) whose network address changes under them, as a laptop's does when
// it moves to another network. path_change.sh runs this inside a network
// namespace; the script moves the namespace's address itself (`ip addr`,
// it runs as root in there), waits --outage seconds (longer than libnice's
// 10 s consent timeout, which used to end the sessions), then restarts ICE
// on both pages over PATCH /sessions/{id} (RFC 9725 4.3).
//
//   node tests/e2e/chromium_path_change.mjs --url http://10.x.y.1:PORT \
//        --dev VETH --old-ip 10.x.y.2 --new-ip 10.x.y.3 --prefix 29
//
// Checks, one line each, then "N passed, M failed": both connect and the
// viewer decodes; after the move and the outage both ICE restarts answer
// 200 (the sessions are still there), both reconnect within
// --max-connect-ms, both selected pairs use the new address, and the viewer
// decodes new frames within --max-resume-ms of its restart; DELETE 200.
// Prints the times measured.

import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { Checks, COMMON_OPTIONS, bothConnected, deleteSessions, randomRoom, sleep, whipWhep,
         withBrowser } from './chromium_lib.mjs';

function options() {
  const { values } = parseArgs({
    options: { ...COMMON_OPTIONS, dev: { type: 'string' }, 'old-ip': { type: 'string' },
               'new-ip': { type: 'string' }, prefix: { type: 'string', default: '29' },
               outage: { type: 'string', default: '12' },
               'max-connect-ms': { type: 'string', default: '2000' },
               'max-resume-ms': { type: 'string', default: '3000' } },
  });
  if (!values.url || !values.dev || !values['old-ip'] || !values['new-ip']) {
    console.error('usage: chromium_path_change.mjs --url URL --dev DEV --old-ip A --new-ip B');
    process.exit(2);
  }
  values.url = values.url.replace(/\/+$/, '');
  values.room ??= randomRoom('path');
  return values;
}

const decoded = async (page) => ((await page.evaluate(() => stats())).inbound || {}).framesDecoded || 0;

async function run(o, checks, { pub, view }) {
  const r = await whipWhep(o, pub, view, checks);
  try {
    if (checks.failed > 0 || r.sessions.length < 2) return;
    if (!await bothConnected(o, pub, view, checks)) return;
    await sleep(3000);
    const before = await decoded(view);
    if (!checks.check('viewer decodes before the move', before > 0, `${before} frames`)) return;

    const ip = (...args) => execFileSync('ip', args, { stdio: 'pipe' });
    // Deleting first: a primary address takes its subnet's secondaries with
    // it (promote_secondaries is off by default).
    ip('addr', 'del', `${o['old-ip']}/${o.prefix}`, 'dev', o.dev);
    ip('addr', 'add', `${o['new-ip']}/${o.prefix}`, 'dev', o.dev);
    console.log(`INFO namespace addresses now: ${String(ip('-4', '-o', 'addr', 'show', 'dev', o.dev)).trim()}`);
    const movedAt = Date.now();
    console.log(`INFO address moved ${o['old-ip']} -> ${o['new-ip']}; waiting ${o.outage} s`);
    await sleep(Number(o.outage) * 1000);
    const states = await Promise.all([pub, view].map((p) => p.evaluate(() => pc.iceConnectionState)));
    console.log(`INFO after ${((Date.now() - movedAt) / 1000).toFixed(1)} s: publisher ICE ${states[0]}, `
      + `viewer ICE ${states[1]}`);

    const [whipUrl, whepUrl] = r.sessions.map((s) => s.url);
    const restarted = await Promise.all([pub.evaluate((u) => iceRestart(u), whipUrl),
                                         view.evaluate((u) => iceRestart(u), whepUrl)]);
    const restartAt = Date.now();
    const framesAtRestart = await decoded(view);
    for (const [who, res] of [['publisher', restarted[0]], ['viewer', restarted[1]]]) {
      checks.check(`${who} ICE restart ${((restartAt - movedAt) / 1000).toFixed(1)} s after the move: `
        + 'PATCH 200 (session kept)', res.status === 200,
        `status ${res.status}${res.status === 200 ? '' : ', ' + String(res.body).trim().slice(0, 120)}`);
    }
    if (checks.failed > 0) return;
    if (!await bothConnected(o, pub, view, checks)) return;
    const limit = Number(o['max-connect-ms']);
    for (const [who, page] of [['publisher', pub], ['viewer', view]]) {
      const t = await page.evaluate(() => connectTiming());
      const all = t.connectedAt ? t.connectedAt - t.answerAt : t.iceAt - t.answerAt;
      checks.check(`${who} reconnected within ${limit} ms of the restart answer`,
        t.iceAt > 0 && all <= limit, `ICE ${(t.iceAt - t.answerAt).toFixed(0)} ms`);
      const s = await page.evaluate(() => stats());
      checks.check(`${who} selected pair uses the new address`,
        !!s.pair && s.pair.local.address === o['new-ip'],
        s.pair ? `local ${s.pair.local.address}:${s.pair.local.port}, remote `
          + `${s.pair.remote.address}:${s.pair.remote.port}` : 'no pair');
    }
    let resumeMs = -1;
    const deadline = restartAt + Number(o['max-resume-ms']) + 2000;
    while (Date.now() < deadline) {
      if (await decoded(view) > framesAtRestart) { resumeMs = Date.now() - restartAt; break; }
      await sleep(50);
    }
    console.log(`INFO viewer decoded again ${resumeMs} ms after the restart`);
    if (resumeMs < 0) {
      for (const [who, page] of [['publisher', pub], ['viewer', view]]) {
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
    }
    checks.check(`viewer decodes new frames within ${o['max-resume-ms']} ms of its restart`,
      resumeMs >= 0 && resumeMs <= Number(o['max-resume-ms']), `${resumeMs} ms`);
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
