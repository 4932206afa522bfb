#!/usr/bin/env node
// Captures the simulcast publish offers that this machine's browsers write,
// for the SDP corpus (tests/data/sdp): Debian's firefox-esr and chromium each
// add the fake camera with the sendEncodings the call and broadcast pages use
// (rid q at 1/4, h at 1/2, f full size) and createOffer(); nothing is sent
// anywhere. Prints each offer's a=rid / a=simulcast lines, and with --save DIR
// writes <browser><major>-simulcast-<mode>-offer.sdp there.
//
//   node tests/e2e/simulcast_offers.mjs [--save tests/data/sdp] [--browsers firefox,chromium]
//     [--mode whip|room]   (whip: audio+video sendonly; room: sendrecv, as the call page)

import { parseArgs } from 'node:util';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launchChromium, launchFirefox, servePage, Tab } from './firefox_lib.mjs';

const { values: o } = parseArgs({
  options: {
    save: { type: 'string' },
    browsers: { type: 'string', default: 'firefox,chromium' },
    mode: { type: 'string', default: 'whip' },
  },
});

// Runs in the page: an offer with three encodings, gathered, as written.
async function simulcastOffer(mode) {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 1280, height: 720 } });
  const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
  const direction = mode === 'room' ? 'sendrecv' : 'sendonly';
  pc.addTransceiver(stream.getAudioTracks()[0], { direction, streams: [stream] });
  pc.addTransceiver(stream.getVideoTracks()[0], {
    direction, streams: [stream],
    sendEncodings: [
      { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150000 },
      { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500000 },
      { rid: 'f', scaleResolutionDownBy: 1, maxBitrate: 1500000 },
    ],
  });
  await pc.setLocalDescription(await pc.createOffer());
  if (pc.iceGatheringState !== 'complete') {
    await new Promise((resolve) => {
      const t = setTimeout(resolve, 5000);
      pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState === 'complete') { clearTimeout(t); resolve(); }
      });
    });
  }
  const sdp = pc.localDescription.sdp;
  pc.close();
  stream.getTracks().forEach((t) => t.stop());
  return sdp;
}

async function main() {
  const { server, url } = await servePage();
  let failed = 0;
  try {
    for (const kind of o.browsers.split(',')) {
      const b = kind === 'firefox' ? await launchFirefox({ origins: [url.replace(/\/$/, '')] })
                                   : await launchChromium();
      try {
        const tab = await Tab.open(b, kind, kind, url);
        const sdp = await tab.eval(`(${simulcastOffer})(${JSON.stringify(o.mode)})`);
        const major = String(b.version).match(/(\d+)\./)?.[1] || 'x';
        console.log(`== ${kind} ${b.version}`);
        console.log(sdp.split(/\r?\n/).filter((l) => /^a=(rid|simulcast|ssrc-group)|^m=/.test(l)).join('\n'));
        if (o.save) {
          const name = `${kind}${major}-simulcast-${o.mode === 'room' ? 'room-join' : 'publish'}-offer.sdp`;
          writeFileSync(join(o.save, name), sdp);
          console.log(`saved ${name}`);
        }
      } catch (e) {
        console.error(`${kind}: ${e.message || e}`);
        failed++;
      } finally {
        await b.close();
      }
    }
  } finally {
    server.close();
  }
  process.exit(failed ? 1 : 0);
}

main();
