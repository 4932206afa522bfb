// A room session (API.md "Room sessions"): one PeerConnection that sends our
// camera and microphone and receives everyone else's, kept in step with the
// room by the server's event stream.
//
//   join:   POST /rooms/{room}/join with our offer -> answer, session URL,
//           events URL. Our audio and video go on the first two m-lines,
//           sendrecv when we have the device, recvonly when we do not; the
//           camera as three simulcast encodings (simulcast.js), of which the
//           browser keeps one when the answer has no a=simulcast.
//   events: GET /sessions/{id}/events (EventSource). `snapshot` and
//           `participant-joined/left` keep the roster; each `offer` is
//           applied and answered (POST .../answer?revision=N); its `tracks`
//           map says whose media each m-line (mid) carries.
//   re-offer: PATCH /sessions/{id} (application/sdp) when we start sending a
//           kind we joined without. 409 means a server offer is unanswered:
//           roll back, answer it, try again.
//   restart: when ICE goes `disconnected` or `failed`, a re-offer with new
//           ICE credentials (restartIce()) at about 0, 0.3, 1.2, 2.7 s, then
//           every 3 s (ice_restart.js); the roster, tiles and tracks stay.
//   leave:  DELETE, then close.
//
// All SDP work runs one step at a time through `queue`, so a server offer
// never meets a half-done re-offer of ours.

import { joinRoom, postAnswer, patchOffer, deleteSession, postLayer, postSubscriptions } from './api.js';
import { gathered } from './rtc.js';
import { IceRestarter } from './ice_restart.js';
import { afterAnswer, videoTransceiverInit } from './simulcast.js';

// Without simulcast the one picture sent stays this wide, as it always was.
const SINGLE_LAYER_WIDTH = 640;

const REOFFER_TRIES = 5;


export class CallSession {
  /**
   * @param {object} o
   * @param {MediaStream} o.stream  our camera/microphone (may have no tracks)
   * @param {object} o.on  callbacks, all optional:
   *   roster(Map id -> {participant, name}), media(Map id -> [{mid, kind, track}]),
   *   speaker(id), state(connectionState), ended(reason), error(Error)
   */
  constructor({ stream, on = {} }) {
    this.stream = stream;
    this.on = on;
    this.pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    this.location = null;
    this.participant = '';
    this.events = null;
    this.roster = new Map();    // participant id -> { participant, name, tracks }
    this.mids = {};             // mid -> { participant, kind } from the last offer
    this.msids = new Map();     // mid -> msid stream id seen in 'track' events
    this.answered = 0;          // last offer revision answered
    this.queue = Promise.resolve();
    this.waiters = [];          // resolved after each answered offer
    this.closed = false;
    // Our own senders: the first audio and video m-lines, in that order.
    this.send = {};
    for (const kind of ['audio', 'video']) {
      const track = stream.getTracks().find((t) => t.kind === kind);
      this.send[kind] = !track ? this.pc.addTransceiver(kind, { direction: 'recvonly' })
        : kind === 'video' ? this.pc.addTransceiver(track, videoTransceiverInit('sendrecv', stream))
          : this.pc.addTransceiver(track, { direction: 'sendrecv', streams: [stream] });
    }
    this.pc.addEventListener('track', (e) => {
      if (e.transceiver.mid && e.streams[0]) this.msids.set(e.transceiver.mid, e.streams[0].id);
    });
    this.restarter = null;
    this.pc.addEventListener('connectionstatechange', () => {
      const s = this.pc.connectionState;
      this.on.state?.(s);
      // An ICE failure is the restarter's to repair; any other (DTLS) is final.
      const ice = this.pc.iceConnectionState;
      if (s === 'failed' && (!this.restarter || ice === 'connected' || ice === 'completed')) {
        this.end('the connection to the server failed');
      }
    });
  }

  /** Joins `room`. Throws ApiError (with the server's status and reason). */
  async join(room, name) {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    await gathered(this.pc);
    const res = await joinRoom(room, name, this.pc.localDescription.sdp);
    this.location = res.location;
    this.layerUrl = res.layer;
    this.subsUrl = res.subscriptions;
    // Nothing to show yet: no video until the page says whose (layout()
    // subscribes once it knows the room), so the first server offer does
    // not bring an m-line for everyone.
    if (this.subsUrl) await this.subscribe({ video: [] }).catch(() => {});
    this.participant = res.participant;
    await this.pc.setRemoteDescription({ type: 'answer', sdp: res.answer });
    this.layers = await afterAnswer(this.send.video.sender, SINGLE_LAYER_WIDTH);
    this.listen(res.events);
    this.restarter = new IceRestarter(this.pc, () => this.restartIce(),
                                      { onGiveUp: (reason) => this.end(reason) });
  }

  /** ICE restart (RFC 8839 4.4.1.1.1): a re-offer with new credentials. */
  async restartIce() {
    if (this.closed) return;
    this.pc.restartIce();
    await this.reoffer();
  }

  listen(url) {
    const es = new EventSource(url);
    this.events = es;
    const on = (type, fn) => es.addEventListener(type, (e) => {
      let data;
      try { data = JSON.parse(e.data); } catch { return; }
      fn(data);
    });
    on('snapshot', (d) => {
      // First connect or a reconnect: the list is complete, replace ours.
      this.roster = new Map((d.participants || []).map((p) => [p.participant, p]));
      this.on.roster?.(this.roster);
      if (d.speaker) this.on.speaker?.(d.speaker);
    });
    on('participant-joined', (d) => {
      this.roster.set(d.participant, { ...d, tracks: [] });
      this.on.roster?.(this.roster);
    });
    on('participant-left', (d) => {
      this.roster.delete(d.participant);
      this.on.roster?.(this.roster);
    });
    on('track-added', (d) => this.roster.get(d.participant)?.tracks?.push({ kind: d.kind }));
    on('track-removed', (d) => {
      const p = this.roster.get(d.participant);
      const i = p?.tracks?.findIndex((t) => t.kind === d.kind) ?? -1;
      if (i >= 0) p.tracks.splice(i, 1);
    });
    on('active-speaker', (d) => this.on.speaker?.(d.participant));
    on('offer', (d) => this.enqueue(() => this.answer(d)).catch((e) => this.on.error?.(e)));
    es.addEventListener('error', () => {
      // EventSource retries by itself on network errors; CLOSED means the
      // server refused the stream (404: the session is gone).
      if (!this.closed && es.readyState === EventSource.CLOSED) this.end('the server ended the session');
    });
  }

  enqueue(step) {
    const run = this.queue.then(step);
    this.queue = run.catch(() => {});
    return run;
  }

  async answer(offer) {
    if (this.closed || offer.revision <= this.answered) return;   // replayed after a reconnect
    await this.pc.setRemoteDescription({ type: 'offer', sdp: offer.sdp });
    this.mids = offer.tracks || {};
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    await postAnswer(this.location, offer.revision, this.pc.localDescription.sdp);
    this.answered = offer.revision;
    this.on.media?.(this.media());
    for (const w of this.waiters.splice(0)) w();
  }

  /**
   * Caps the video m-line `mid` (showing `participant`) at layer `maxLayer`
   * (-1: automatic), asking the server only when that changed. A reused
   * m-line (another participant now) starts uncapped on the server's side
   * too only if we say so, hence the participant in the key.
   */
  async capVideo(mid, participant, maxLayer) {
    this.caps ??= new Map();
    const key = `${participant}/${maxLayer}`;
    if (!this.layerUrl || this.closed || this.caps.get(mid) === key) return;
    this.caps.set(mid, key);
    await postLayer(this.layerUrl, mid, maxLayer).catch(() => this.caps.delete(mid));
  }

  /**
   * Says whose video to receive and at what size (API.md "Subscriptions"),
   * asking the server only when that changed. False when the server has no
   * subscriptions (the page then caps each tile with capVideo).
   */
  async subscribe(body) {
    if (!this.subsUrl || this.closed) return false;
    const text = JSON.stringify(body);
    if (this.subscribed === text) return true;
    this.subscribed = text;
    await postSubscriptions(this.subsUrl, body).catch((e) => { this.subscribed = ''; throw e; });
    return true;
  }

  /**
   * Whose media each receiving m-line carries now: id -> [{ mid, kind, track }].
   * Audio slots (the loudest few of a large room, whoever they are) are
   * under the id ''.
   */
  media() {
    const out = new Map();
    for (const t of this.pc.getTransceivers()) {
      const info = t.mid !== null && this.mids[t.mid];
      if (!info || t.currentDirection === 'inactive') continue;
      const who = 'slot' in info ? '' : info.participant;
      if (!out.has(who)) out.set(who, []);
      out.get(who).push({ mid: t.mid, kind: info.kind, track: t.receiver.track });
    }
    return out;
  }

  /**
   * Starts sending `track` on our m-line of its kind. With the device there
   * from the join this is a replaceTrack; without it the m-line was recvonly
   * and the direction change needs a client re-offer.
   */
  async startSending(track) {
    const tr = this.send[track.kind];
    this.stream.addTrack(track);
    await tr.sender.replaceTrack(track);
    tr.sender.setStreams?.(this.stream);
    if (tr.direction !== 'sendrecv') {
      tr.direction = 'sendrecv';
      await this.reoffer();
    }
    // A camera turned on after the join has one encoding (a transceiver's
    // encodings are fixed at its creation): keep it 640 wide.
    if (track.kind === 'video') this.layers = await afterAnswer(tr.sender, SINGLE_LAYER_WIDTH);
  }

  /** PATCH with a new offer; on 409 answer the server's offer first, then retry. */
  async reoffer() {
    for (let i = 0; i < REOFFER_TRIES; i++) {
      const seen = this.answered;
      const done = await this.enqueue(async () => {
        await this.pc.setLocalDescription(await this.pc.createOffer());
        let sdp;
        try {
          sdp = await patchOffer(this.location, this.pc.localDescription.sdp);
        } catch (e) {
          await this.pc.setLocalDescription({ type: 'rollback' });
          if (e.status === 409) return false;
          throw e;
        }
        await this.pc.setRemoteDescription({ type: 'answer', sdp });
        return true;
      });
      if (done) return;
      if (this.answered === seen) await this.nextAnswer(3000);
    }
    throw new Error('Updating the call failed: the server kept renegotiating. Try again.');
  }

  nextAnswer(ms) {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.waiters.push(() => { clearTimeout(t); resolve(); });
    });
  }

  /** Mutes or unmutes a kind: a disabled track sends silence or black frames. */
  setEnabled(kind, enabled) {
    for (const t of this.stream.getTracks()) if (t.kind === kind) t.enabled = enabled;
  }

  hasTrack(kind) { return this.stream.getTracks().some((t) => t.kind === kind); }

  end(reason) {
    if (this.closed) return;
    this.close().catch(() => {});
    this.on.ended?.(reason);
  }

  /**
   * Leaves: DELETE first, then close (closing first would send a DTLS
   * close_notify that ends the session by itself, and the DELETE would 404).
   */
  async close({ keepalive = false } = {}) {
    if (this.closed) return;
    this.closed = true;
    this.restarter?.close();
    this.events?.close();
    const url = this.location;
    this.location = null;
    try {
      if (url) await deleteSession(url, 'Leaving the call', keepalive).catch((e) => {
        if (e.status !== 404) throw e;   // already gone: that is what we wanted
      });
    } finally {
      this.pc.close();
      for (const t of this.stream.getTracks()) t.stop();
    }
  }
}
