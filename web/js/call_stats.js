// Per-tile figures for a call: one getStats() of the one PeerConnection per
// second, split by whose media each report carries. Received reports are
// grouped by mid (the offer's `tracks` map says whose each mid is); what we
// send goes to the key 'self'. Counters are cumulative per report, so each
// figure is the difference from the previous sample of the same report id;
// that also keeps a recycled m-line's old SSRC from being counted again.

import { pairRtt } from './stats.js';

function empty() {
  return { bytes: 0, packets: 0, lost: 0, frames: 0, audioPackets: 0,
           width: undefined, height: undefined, fps: undefined };
}

export class CallStats {
  constructor(pc) {
    this.pc = pc;
    this.prev = new Map();   // report id -> its last counters
    this.t = 0;
  }

  // Difference of a counter since the previous sample of this report.
  delta(r, field, cur) {
    const p = this.prev.get(r.id);
    return p && p[field] !== undefined ? Math.max(0, cur - p[field]) : 0;
  }

  /**
   * @param {Map<string,string>} owners  mid -> key (participant id)
   * @returns {Map<string, {kbps, lossPct, rttMs, width, height, fps, frames, audioPackets}>}
   *   per key; `frames` and `audioPackets` are counts since the last sample.
   */
  async sample(owners) {
    const stats = await this.pc.getStats();
    const now = performance.now();
    const secs = this.t ? (now - this.t) / 1000 : 0;
    this.t = now;
    const reports = [...stats.values()];
    const byId = new Map(reports.map((r) => [r.id, r]));
    const rtt = pairRtt(byId, reports);
    const acc = new Map();
    const into = (key) => {
      if (!acc.has(key)) acc.set(key, empty());
      return acc.get(key);
    };
    const next = new Map();
    for (const r of reports) {
      let a = null;
      let cur = null;
      if (r.type === 'inbound-rtp' && owners.has(r.mid)) {
        a = into(owners.get(r.mid));
        cur = { bytes: r.bytesReceived || 0, packets: r.packetsReceived || 0,
                lost: Math.max(0, r.packetsLost || 0), frames: r.framesDecoded || 0 };
        if (r.kind === 'audio') a.audioPackets += this.delta(r, 'packets', cur.packets);
      } else if (r.type === 'outbound-rtp') {
        a = into('self');
        cur = { bytes: r.bytesSent || 0, packets: r.packetsSent || 0, frames: r.framesEncoded || 0 };
      } else if (r.type === 'remote-inbound-rtp') {
        // What the SFU says it lost of ours, from its receiver reports.
        a = into('self');
        cur = { lost: Math.max(0, r.packetsLost || 0) };
      } else {
        continue;
      }
      for (const f of Object.keys(cur)) a[f] += this.delta(r, f, cur[f]);
      if (r.kind === 'video' && r.frameWidth && (r.type === 'inbound-rtp' || r.type === 'outbound-rtp')) {
        a.width = r.frameWidth;
        a.height = r.frameHeight;
        a.fps = r.framesPerSecond;
      }
      next.set(r.id, cur);
    }
    this.prev = next;
    const out = new Map();
    for (const [key, a] of acc) {
      const total = a.packets + a.lost;
      out.set(key, {
        kbps: secs ? (a.bytes * 8) / 1000 / secs : undefined,
        lossPct: secs ? (total ? (100 * a.lost) / total : 0) : undefined,
        rttMs: rtt === undefined ? undefined : rtt * 1000,
        width: a.width, height: a.height, fps: a.fps,
        frames: a.frames, audioPackets: a.audioPackets,
      });
    }
    return out;
  }
}
