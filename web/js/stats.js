// Per-tile figures from RTCPeerConnection.getStats(), sampled once a second:
// bitrate (payload bytes, both kinds), packet loss over the last interval,
// round-trip time and the video's size and frame rate. Counters in the stats
// are cumulative, so each sample is a difference from the previous one.

function sum(reports, type, field) {
  let n = 0;
  for (const r of reports) if (r.type === type) n += r[field] || 0;
  return n;
}

// RTT of the ICE candidate pair in use: works in both directions and does not
// depend on RTCP receiver reports reaching us.
export function pairRtt(byId, reports) {
  for (const r of reports) {
    if (r.type !== 'transport' || !r.selectedCandidatePairId) continue;
    const pair = byId.get(r.selectedCandidatePairId);
    if (pair?.currentRoundTripTime !== undefined) return pair.currentRoundTripTime;
  }
  for (const r of reports) {
    if (r.type === 'candidate-pair' && r.nominated && r.currentRoundTripTime !== undefined) {
      return r.currentRoundTripTime;
    }
  }
  return undefined;
}

export class StatsMeter {
  /** @param {RTCPeerConnection} pc  @param {'send'|'recv'} direction */
  constructor(pc, direction) {
    this.pc = pc;
    this.sending = direction === 'send';
    this.prev = null;
  }

  /** One sample: { kbps, lossPct, rttMs, width, height, fps, framesDecoded, audioPackets }. */
  async sample() {
    const stats = await this.pc.getStats();
    const reports = [...stats.values()];
    const now = performance.now();
    const rtpType = this.sending ? 'outbound-rtp' : 'inbound-rtp';
    const cur = {
      t: now,
      bytes: sum(reports, rtpType, this.sending ? 'bytesSent' : 'bytesReceived'),
      packets: sum(reports, rtpType, this.sending ? 'packetsSent' : 'packetsReceived'),
      // Sending: what the SFU reports lost in its RTCP receiver reports.
      lost: this.sending ? sum(reports, 'remote-inbound-rtp', 'packetsLost')
        : sum(reports, 'inbound-rtp', 'packetsLost'),
    };
    const video = reports.find((r) => r.type === rtpType && r.kind === 'video') || {};
    const audio = reports.find((r) => r.type === rtpType && r.kind === 'audio') || {};
    const remote = reports.find((r) => r.type === 'remote-inbound-rtp' && r.roundTripTime !== undefined);
    const byId = new Map(reports.map((r) => [r.id, r]));
    const rtt = pairRtt(byId, reports) ?? remote?.roundTripTime;

    const out = {
      kbps: undefined, lossPct: undefined,
      rttMs: rtt === undefined ? undefined : rtt * 1000,
      width: video.frameWidth, height: video.frameHeight, fps: video.framesPerSecond,
      framesDecoded: video.framesDecoded || 0,
      audioPackets: audio.packetsReceived || 0,
    };
    const p = this.prev;
    if (p && now > p.t) {
      out.kbps = ((cur.bytes - p.bytes) * 8) / (now - p.t);      // bits per ms = kbit/s
      const lost = Math.max(0, cur.lost - p.lost);
      const total = lost + Math.max(0, cur.packets - p.packets);
      out.lossPct = total > 0 ? (100 * lost) / total : 0;
    }
    this.prev = cur;
    return out;
  }
}

/** The figures as short text for the overlay. */
export function formatStats(s) {
  const kbps = s.kbps === undefined ? '–'
    : s.kbps >= 1000 ? `${(s.kbps / 1000).toFixed(2)} Mbit/s` : `${Math.round(s.kbps)} kbit/s`;
  const loss = s.lossPct === undefined ? '–' : `${s.lossPct.toFixed(s.lossPct < 10 ? 1 : 0)} %`;
  const rtt = s.rttMs === undefined ? '–' : s.rttMs < 1 ? '<1 ms' : `${Math.round(s.rttMs)} ms`;
  const video = s.width ? `${s.width}×${s.height}${s.fps ? ` @ ${Math.round(s.fps)} fps` : ''}` : '–';
  return { bitrate: kbps, loss, rtt, video };
}
