#!/usr/bin/env node
// H.264 through the SFU: a headless Chromium publisher whose video
// transceiver offers only H.264 (packetization-mode=1, one profile, by
// setCodecPreferences) over WHIP, and a Chromium viewer over WHEP.
//
//   node tests/e2e/chromium_h264.mjs --url http://127.0.0.1:PORT
//
// Checks, one line each, then "N passed, M failed"; exit 0 only if all pass:
//   the WHIP answer's video m-line carries H264 packetization-mode=1 only,
//   WHIP/WHEP 201, both connect, the publisher really encodes H.264 (its
//   outbound-rtp codec), the viewer's inbound-rtp codec is video/H264 and
//   its framesDecoded rate is >= --min-ratio of the publisher's
//   framesEncoded rate, GET /rooms gives the layer the encoder's frame size
//   (read from the SPS), DELETE 200.
// If this Chromium has no H.264 encoder at all (no such H264 entry in
// RTCRtpSender.getCapabilities), the run prints a "SKIP" line saying so and
// exits 0 with "0 passed, 0 failed". One listed but not encoding fails.
//
// Options: --profile 42e01f (profile-level-id to offer), --expect-codec
// video/H264 (what the viewer must decode; give another to see the check
// fail), --seconds 12, --warmup 4, --min-ratio 0.9, --room, --chromium.

import { parseArgs } from 'node:util';
import { Checks, COMMON_OPTIONS, bothConnected, deleteSessions, measureRates, randomRoom,
         whipWhep, withBrowser } from './chromium_lib.mjs';

function options() {
  const { values } = parseArgs({
    options: {
      ...COMMON_OPTIONS,
      profile: { type: 'string', default: '42e01f' },
      'expect-codec': { type: 'string', default: 'video/H264' },
    },
  });
  if (!values.url) {
    console.error('usage: chromium_h264.mjs --url http://127.0.0.1:PORT [--profile 42e01f]');
    process.exit(2);
  }
  values.url = values.url.replace(/\/+$/, '');
  values.room ??= randomRoom('h264');
  return values;
}

// The video m-line's payload types and their rtpmap/fmtp lines.
function videoCodecsOf(sdp) {
  const video = sdp.split(/\r?\n(?=m=)/).find((m) => m.startsWith('m=video'));
  if (!video) return [];
  const pts = video.split(/\r?\n/)[0].split(' ').slice(3);
  return pts.map((pt) => {
    const rtpmap = (video.match(new RegExp(`^a=rtpmap:${pt} (\\S+)`, 'm')) || [])[1] || '?';
    const fmtp = (video.match(new RegExp(`^a=fmtp:${pt} (.*)$`, 'm')) || [])[1] || '';
    return { pt, name: rtpmap.split('/')[0], fmtp: fmtp.trim() };
  });
}

async function run(o, checks, { pub, view }) {
  const profile = o.profile.toLowerCase();
  const codec = { mime: 'video/H264', fmtp: ['packetization-mode=1', `profile-level-id=${profile}`] };
  const r = await whipWhep(o, pub, view, checks, { codec });
  if (r.error) {
    console.log(`SKIP H.264: this Chromium offers no H264 packetization-mode=1 `
      + `profile-level-id=${profile} encoder (RTCRtpSender video codecs: ${r.codecs.join(', ')})`);
    return;
  }
  const offered = videoCodecsOf(r.offer).filter((c) => c.name !== 'rtx');
  console.log(`INFO offered video: ${offered.map((c) => `${c.pt} ${c.name} ${c.fmtp}`).join(' | ')}`);
  if (r.whip?.status === 201) {
    const answered = videoCodecsOf(r.whip.body).filter((c) => c.name !== 'rtx');
    checks.check('WHIP answer video is H264 packetization-mode=1',
      answered.length > 0 && answered.every((c) => c.name.toUpperCase() === 'H264'
        && /packetization-mode=1/.test(c.fmtp)),
      answered.map((c) => `${c.pt} ${c.name} ${c.fmtp}`).join(' | ') || 'no video codec');
  }
  if (r.whep?.status === 201) {
    const answered = videoCodecsOf(r.whep.body).filter((c) => c.name !== 'rtx');
    // The viewer must be answered the publisher's profile (RFC 6184 8.1:
    // profile_idc and the constraint flags, the first 4 hex digits).
    const want = profile.slice(0, 4).toLowerCase();
    checks.check(`WHEP answer video is H264 profile ${want}xx like the publisher`,
      answered.length > 0 && answered.every((c) => c.name.toUpperCase() === 'H264'
        && new RegExp(`profile-level-id=${want}`, 'i').test(c.fmtp)),
      answered.map((c) => `${c.pt} ${c.name} ${c.fmtp}`).join(' | ') || 'no video codec');
  }
  try {
    if (checks.failed > 0 || r.sessions.length < 2) return;
    if (!await bothConnected(o, pub, view, checks)) return;
    const { p2, v2 } = await measureRates(o, pub, view, checks);
    const out = p2.outbound[0] || {};
    console.log(`INFO publisher encoder "${out.encoder}" ${out.mime} ${out.fmtp} ${out.width}x${out.height}; `
      + `viewer decoder "${v2.inbound?.decoder}" ${v2.inbound?.mime} ${v2.inbound?.fmtp}`);
    if (out.mime.toLowerCase() === 'video/h264' && out.framesEncoded === 0) {
      // Negotiated but nothing encoded: the encoder is listed but does not work.
      console.log(`INFO Chromium negotiated H264 but encoded no frame (encoder "${out.encoder}"): `
        + 'its H.264 encoder does not work here');
    }
    checks.check('publisher encodes H.264', out.mime.toLowerCase() === 'video/h264' && out.framesEncoded > 0,
      `outbound-rtp codec ${out.mime || 'none'}, encoder "${out.encoder}", framesEncoded ${out.framesEncoded}`);
    // The SFU reads the frame size from the SPS sent with each keyframe
    // (GET /rooms tracks[].layers); H.264 slices carry none.
    const room = await fetch(`${o.url}/rooms/${encodeURIComponent(o.room)}`).then((x) => (x.ok ? x.json() : null));
    const video = (room?.participants || []).flatMap((x) => x.tracks || []).find((t) => t.kind === 'video');
    const layer = video?.layers?.[0];
    checks.check('GET /rooms shows the H.264 layer\'s size, read from its SPS, as encoded',
      layer?.width === out.width && layer?.height === out.height && out.width > 0,
      `room says ${layer?.width}x${layer?.height}, encoder ${out.width}x${out.height}`);
    const mime = v2.inbound?.mime || 'none';
    checks.check(`viewer inbound codec is ${o['expect-codec']}`,
      mime.toLowerCase() === o['expect-codec'].toLowerCase(), `inbound-rtp codec ${mime} ${v2.inbound?.fmtp || ''}`);
  } finally {
    await deleteSessions(r.sessions, checks);
  }
}

async function main() {
  const o = options();
  const checks = new Checks();
  console.log(`INFO room ${o.room}, ${o.url}, H.264 profile-level-id ${o.profile}`);
  await withBrowser(o, checks, (pages) => run(o, checks, pages));
  process.exitCode = checks.failed === 0 && checks.passed === 0 ? (console.log('0 passed, 0 failed'), 0)
    : checks.summary();
}

main();
