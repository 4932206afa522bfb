#!/usr/bin/env node
// The pages' simulcast settings without a browser (web/js/simulcast.js): the
// encodings offered, and what happens to the one encoding a browser keeps
// when the answer has no a=simulcast, against a fake RTCRtpSender.
//
//   node tests/web/test_simulcast.mjs      prints PASS/FAIL lines, "N passed, M failed"

import { CAMERA_VIDEO, simulcastEncodings, videoTransceiverInit, singleLayerSize, afterAnswer,
         layerForTile }
  from '../../web/js/simulcast.js';

let passed = 0, failed = 0;
function check(name, ok, detail = '') {
  console.log(`${ok ? 'PASS' : 'FAIL'} ${name}${detail ? ': ' + detail : ''}`);
  if (ok) passed++; else failed++;
}
const eq = (name, got, want) => check(name, JSON.stringify(got) === JSON.stringify(want),
  `got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);

const enc = simulcastEncodings();
eq('three rids, full size first', enc.map((e) => e.rid), ['f', 'h', 'q']);
eq('scales 1/2/4', enc.map((e) => e.scaleResolutionDownBy), [1, 2, 4]);
check('bit rates fall with size', enc[0].maxBitrate > enc[1].maxBitrate && enc[1].maxBitrate > enc[2].maxBitrate
  && enc[2].maxBitrate >= 100000, JSON.stringify(enc.map((e) => e.maxBitrate)));
enc[0].rid = 'x';
eq('a fresh copy each time', simulcastEncodings()[0].rid, 'f');
eq('camera is 720p', [CAMERA_VIDEO.width.ideal, CAMERA_VIDEO.height.ideal], [1280, 720]);
const init = videoTransceiverInit('sendonly', 'S');
eq('transceiver init', [init.direction, init.streams, init.sendEncodings.length], ['sendonly', ['S'], 3]);

eq('single layer size', [[1280, 720, 640], [640, 360, 640], [320, 180, 640], [1920, 1080, 640], [0, 0, 640],
  [1280, 720, 0]].map(([w, h, m]) => singleLayerSize(w, h, m)),
  [{ width: 640, height: 360 }, null, null, { width: 640, height: 360 }, null, null]);

class FakeSender {
  constructor(encodings, width, height) {
    this.params = { encodings };
    this.set = 0;
    this.applied = [];
    const self = this;
    this.track = {
      settings: { width, height },
      getSettings() { return this.settings; },
      getConstraints() { return { frameRate: { ideal: 24 } }; },
      async applyConstraints(c) { self.applied.push(c); this.settings = { width: c.width.ideal, height: c.height.ideal }; },
    };
  }
  getParameters() { return JSON.parse(JSON.stringify(this.params)); }
  async setParameters(p) { this.set++; this.params = p; }
}

{
  const s = new FakeSender(simulcastEncodings(), 1280, 720);
  eq('simulcast answered: 3 layers, untouched', [await afterAnswer(s, 640), s.set, s.applied.length], [3, 0, 0]);
}
{
  const s = new FakeSender([simulcastEncodings()[0]], 1280, 720);
  const n = await afterAnswer(s, 640);
  eq('refused: one layer, no cap, captured 640x360 at the same frame rate',
    [n, s.set, 'maxBitrate' in s.params.encodings[0], s.applied],
    [1, 1, false, [{ frameRate: { ideal: 24 }, width: { ideal: 640 }, height: { ideal: 360 } }]]);
  eq('refused: idempotent', [await afterAnswer(s, 640), s.set, s.applied.length], [1, 1, 1]);
}
{
  const s = new FakeSender([simulcastEncodings()[0]], 1280, 720);
  eq('broadcast (no width cap): left alone', [await afterAnswer(s, 0), s.set, s.applied.length], [1, 0, 0]);
}
{
  const s = new FakeSender([{ rid: 'f', maxBitrate: 1 }], 1280, 720);
  s.setParameters = async () => { throw new Error('InvalidModificationError'); };
  s.track.applyConstraints = async () => { throw new Error('OverconstrainedError'); };
  eq('refused setParameters / applyConstraints are not fatal', await afterAnswer(s, 640), 1);
}
eq('no sender', await afterAnswer(null, 640), 0);

// A tile's layer cap: the lowest layer (180, 360, 720 high) at least as tall
// as the tile in device pixels; -1 (automatic) when only the top one is.
eq('layer for tile heights (dpr 1)', [90, 180, 181, 360, 361, 720, 1080].map((h) => layerForTile(h, 1)),
  [0, 0, 1, 1, -1, -1, -1]);
eq('layer for tile heights (dpr 2)', [90, 91, 180, 181].map((h) => layerForTile(h, 2)), [0, 1, 1, -1]);
eq('not laid out or bad dpr: automatic / dpr 1', [layerForTile(0, 1), layerForTile(NaN, 1), layerForTile(100, 0)],
  [-1, -1, 0]);

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
