#!/usr/bin/env node
// The pages' ICE restart logic without a browser: the retry schedule
// (web/js/ice_restart.js) on a virtual clock against a fake PeerConnection,
// and the sdpfrag rewriting (web/js/sdpfrag.js) as a table.
//
//   node tests/web/test_ice_restart.mjs      prints PASS/FAIL lines, "N passed, M failed"

import { IceRestarter, restartAt } from '../../web/js/ice_restart.js';
import { restartFrag, applyRestartAnswer } from '../../web/js/sdpfrag.js';

let passed = 0, failed = 0;
function check(name, ok, detail = '') {
  console.log(`${ok ? 'PASS' : 'FAIL'} ${name}${detail ? ': ' + detail : ''}`);
  if (ok) passed++; else failed++;
}
const eq = (name, got, want) => check(name, JSON.stringify(got) === JSON.stringify(want),
  `got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);

/* ---- schedule ---- */
eq('schedule: 0, 0.3, 1.2, 2.7 s, then every 3 s', [0, 1, 2, 3, 4, 5].map((n) => restartAt(n)),
   [0, 300, 1200, 2700, 5700, 8700]);
eq('schedule: gives up at 20 s', [6, 7, 8].map((n) => restartAt(n)), [11700, 14700, 17700]);
eq('schedule: nothing at or past give-up', restartAt(9), null);

/* ---- the restarter on a virtual clock ---- */
class FakePc extends EventTarget {
  constructor() { super(); this.iceConnectionState = 'connected'; }
  set(s) { this.iceConnectionState = s; this.dispatchEvent(new Event('iceconnectionstatechange')); }
}
function clock() {
  const c = { t: 1000, timers: [] };
  c.now = () => c.t;
  c.setTimer = (fn, ms) => { const x = { at: c.t + ms, fn }; c.timers.push(x); return x; };
  c.clearTimer = (x) => { c.timers = c.timers.filter((y) => y !== x); };
  // Runs every timer due up to `to`, in order, letting promises settle.
  c.run = async (to) => {
    for (;;) {
      await new Promise((r) => setImmediate(r));
      c.timers.sort((a, b) => a.at - b.at);
      const x = c.timers[0];
      if (!x || x.at > to) break;
      c.timers.shift();
      c.t = x.at;
      x.fn();
    }
    c.t = to;
  };
  return c;
}

async function scenario(name, fn) {
  const pc = new FakePc();
  const c = clock();
  const log = { attempts: [], gaveUp: null };
  let behave = async () => {};
  const r = new IceRestarter(pc, () => { log.attempts.push(c.t - 1000); return behave(); }, {
    now: c.now, setTimer: c.setTimer, clearTimer: c.clearTimer,
    onGiveUp: (why) => { log.gaveUp = why; } });
  await fn({ pc, c, log, r, setBehave: (b) => { behave = b; } });
}

await scenario('never reconnects', async ({ pc, c, log }) => {
  pc.set('disconnected');
  await c.run(1000 + 19000);
  eq('restarter: attempts at 0, 0.3, 1.2, 2.7 s, then every 3 s', log.attempts,
     [0, 300, 1200, 2700, 5700, 8700, 11700, 14700, 17700]);
  check('restarter: no give-up before 20 s', log.gaveUp === null, String(log.gaveUp));
  await c.run(1000 + 25000);
  check('restarter: gives up after the last attempt', log.gaveUp !== null, String(log.gaveUp));
});

await scenario('reconnects after the second attempt', async ({ pc, c, log }) => {
  pc.set('failed');
  await c.run(1000 + 500);
  pc.set('connected');
  await c.run(1000 + 30000);
  eq('restarter: stops once connected', log.attempts, [0, 300]);
  check('restarter: no give-up once connected', log.gaveUp === null, String(log.gaveUp));
  pc.set('disconnected');                      // trouble again later: a fresh schedule
  await c.run(1000 + 30000 + 400);
  eq('restarter: a new outage starts over at 0', log.attempts, [0, 300, 30000, 30300]);
});

await scenario('slow signaling', async ({ pc, c, log, setBehave }) => {
  // Each restart's PATCH takes 1 s: the next attempt waits for it, then
  // lets its checks run 250 ms before it replaces the generation.
  setBehave(() => new Promise((res) => c.setTimer(res, 1000)));
  pc.set('disconnected');
  await c.run(1000 + 4000);
  eq('restarter: one at a time, 250 ms after the previous one finished', log.attempts,
     [0, 1250, 2500, 3750]);
});

await scenario('session gone', async ({ pc, c, log, setBehave }) => {
  setBehave(async () => { const e = new Error('404'); e.status = 404; throw e; });
  pc.set('disconnected');
  await c.run(1000 + 5000);
  eq('restarter: a 404 stops at once', log.attempts, [0]);
  check('restarter: ... and gives up', /ended/.test(String(log.gaveUp)), String(log.gaveUp));
});

await scenario('network error', async ({ pc, c, log, setBehave }) => {
  setBehave(async () => { const e = new Error('net'); e.status = 0; throw e; });
  pc.set('disconnected');
  await c.run(1000 + 1300);
  eq('restarter: a network error is retried on schedule', log.attempts, [0, 300, 1200]);
});

await scenario('closed', async ({ pc, c, log, r }) => {
  r.close();
  pc.set('failed');
  await c.run(1000 + 5000);
  eq('restarter: closed, nothing happens', log.attempts, []);
});

/* ---- sdpfrag ---- */
const OFFER = ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0 1',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'c=IN IP4 0.0.0.0', 'a=ice-ufrag:NEWc',
  'a=ice-pwd:newclientpassword0123456', 'a=mid:0', 'a=sendonly',
  'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=ice-ufrag:NEWc', 'a=ice-pwd:newclientpassword0123456',
  'a=mid:1', ''].join('\r\n');
eq('sdpfrag: the restart PATCH body', restartFrag(OFFER),
   'a=ice-ufrag:NEWc\r\na=ice-pwd:newclientpassword0123456\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n');
let threw = false;
try { restartFrag('v=0\r\nm=audio 9 X 0\r\n'); } catch { threw = true; }
check('sdpfrag: an offer without credentials is refused', threw);

const REMOTE = ['v=0', 'm=audio 20000 UDP/TLS/RTP/SAVPF 111', 'a=ice-ufrag:oldS',
  'a=ice-pwd:oldserverpassword012345', 'a=candidate:1 1 udp 2130706431 10.0.0.1 20000 typ host',
  'a=end-of-candidates', 'a=mid:0', 'm=video 20000 UDP/TLS/RTP/SAVPF 96', 'a=ice-ufrag:oldS',
  'a=ice-pwd:oldserverpassword012345', 'a=candidate:1 1 udp 2130706431 10.0.0.1 20000 typ host',
  'a=end-of-candidates', 'a=mid:1', ''].join('\r\n');
const ANSWER = 'a=ice-lite\r\na=ice-ufrag:newS\r\na=ice-pwd:newserverpassword012345\r\n'
  + 'm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n'
  + 'a=candidate:2 1 udp 2130706431 10.0.0.1 20007 typ host\r\na=end-of-candidates\r\n';
const got = applyRestartAnswer(REMOTE, ANSWER);
const section = ['a=ice-ufrag:newS', 'a=ice-pwd:newserverpassword012345',
  'a=candidate:2 1 udp 2130706431 10.0.0.1 20007 typ host', 'a=end-of-candidates'];
eq('sdpfrag: the answer replaces credentials and candidates in every m-line', got,
   ['v=0', 'm=audio 20000 UDP/TLS/RTP/SAVPF 111', ...section, 'a=mid:0',
    'm=video 20000 UDP/TLS/RTP/SAVPF 96', ...section, 'a=mid:1', ''].join('\r\n'));
threw = false;
try { applyRestartAnswer(REMOTE, 'a=mid:0\r\n'); } catch { threw = true; }
check('sdpfrag: an answer without credentials is refused', threw);

console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
