// WebRTC sessions with the SFU: a WHIP publisher and WHEP viewers. Both are
// "one PeerConnection + one session URL"; a future room session (join +
// events) fits the same shape. No trickle: the SFU is ICE-lite and takes the
// full candidate list in the offer. When the path breaks, the session
// restarts ICE by itself (ice_restart.js) over PATCH (RFC 9725 4.3).

import { postOffer, deleteSession, patchIceRestart, whipPath, whepPath } from './api.js';
import { IceRestarter } from './ice_restart.js';
import { restartFrag, applyRestartAnswer } from './sdpfrag.js';
import { CAMERA_VIDEO, afterAnswer, videoTransceiverInit } from './simulcast.js';

// Send the offer when gathering completes, or after this long with what we
// have: host candidates come at once, and a slow STUN server must not stall us.
const GATHER_WAIT_MS = 1500;

export function gathered(pc, ms = GATHER_WAIT_MS) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', check);
      resolve();
    };
    const check = () => { if (pc.iceGatheringState === 'complete') done(); };
    const timer = setTimeout(done, ms);
    pc.addEventListener('icegatheringstatechange', check);
  });
}

// Offer, wait for candidates, POST, apply the answer. Returns the 201's facts.
async function negotiate(pc, path, what) {
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  const res = await postOffer(path, pc.localDescription.sdp, what);
  await pc.setRemoteDescription({ type: 'answer', sdp: res.answer });
  return res;
}

/** Base: one PeerConnection bound to one session URL on the SFU. */
class Session {
  constructor(what) {
    this.what = what;            // "Publishing" / "Watching": starts error messages
    this.pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    this.location = null;        // secret session URL; only DELETE is sent to it
    this.participant = '';       // public participant id from X-Participant-Id
    this.onstate = null;         // (connectionState) => void
    this.onlost = null;          // (reason) => void: ICE restarts gave up
    this.pc.addEventListener('connectionstatechange', () => this.onstate?.(this.pc.connectionState));
    this.restarter = null;
  }

  async open(path) {
    const res = await negotiate(this.pc, path, `${this.what} failed`);
    this.location = res.location;
    this.participant = res.participant;
    this.restarter = new IceRestarter(this.pc, () => this.restartIce(),
                                      { onGiveUp: (reason) => this.onlost?.(reason) });
    return this;
  }

  /**
   * One ICE restart: a new offer with new credentials, PATCHed at once (the
   * SFU needs none of our candidates), the answer's credentials and
   * candidates into the remote description. DTLS, tracks and the session
   * URL stay. On failure the offer is rolled back and the error thrown.
   */
  async restartIce() {
    if (!this.location) return;
    this.pc.restartIce();
    await this.pc.setLocalDescription(await this.pc.createOffer());
    let frag;
    try {
      frag = await patchIceRestart(this.location, restartFrag(this.pc.localDescription.sdp),
                                   `${this.what}: reconnecting failed`);
    } catch (e) {
      await this.pc.setLocalDescription({ type: 'rollback' }).catch(() => {});
      throw e;
    }
    await this.pc.setRemoteDescription({
      type: 'answer', sdp: applyRestartAnswer(this.pc.remoteDescription.sdp, frag) });
  }

  /**
   * Ends the session on the server (once), then closes the PeerConnection:
   * in that order, because closing first sends a DTLS close_notify that ends
   * the session on its own and the DELETE would then find nothing (404).
   */
  async close({ keepalive = false } = {}) {
    this.restarter?.close();
    const url = this.location;
    this.location = null;
    try {
      if (url) await deleteSession(url, `${this.what}: could not stop`, keepalive);
    } finally {
      this.pc.close();
    }
  }
}

/** WHIP: send the local camera and microphone into a room. */
export class Publisher extends Session {
  constructor(stream) {
    super('Publishing');
    this.stream = stream;
    // The camera as three simulcast layers; the browser keeps the first
    // (full size) when the answer has no a=simulcast.
    for (const track of stream.getTracks()) {
      this.pc.addTransceiver(track, track.kind === 'video' ? videoTransceiverInit('sendonly', stream)
        : { direction: 'sendonly', streams: [stream] });
    }
  }

  /** Encodings the browser sends after the answer: 3 with simulcast, else 1. */
  videoLayers() {
    const s = this.pc.getSenders().find((x) => x.track?.kind === 'video');
    return s ? afterAnswer(s, 0) : Promise.resolve(0);
  }

  static async start(room, name, stream) {
    const p = new Publisher(stream);
    try {
      return await p.open(whipPath(room, name));
    } catch (e) {
      p.pc.close();
      throw e;
    }
  }

  /** Mute or unmute a kind of track: a disabled track sends silence or black frames. */
  setEnabled(kind, enabled) {
    for (const t of this.stream.getTracks()) if (t.kind === kind) t.enabled = enabled;
  }

  async close(opts) {
    for (const t of this.stream.getTracks()) t.stop();
    await super.close(opts);
  }
}

/** WHEP: receive one participant's audio and video. */
export class Viewer extends Session {
  constructor() {
    super('Watching');
    this.stream = new MediaStream();
    this.pc.addTransceiver('audio', { direction: 'recvonly' });
    this.pc.addTransceiver('video', { direction: 'recvonly' });
    this.pc.addEventListener('track', (e) => this.stream.addTrack(e.track));
  }

  static async start(room, participant) {
    const v = new Viewer();
    try {
      return await v.open(whepPath(room, participant));
    } catch (e) {
      v.pc.close();
      throw e;
    }
  }
}

/**
 * Camera and microphone, falling back to whichever one exists. Errors are
 * rewritten in plain words (the DOMException names are not).
 */
export async function getCameraAndMic() {
  const video = CAMERA_VIDEO;
  if (!navigator.mediaDevices?.getUserMedia) {
    throw new Error('Publishing failed: the camera needs a secure page (HTTPS or localhost).');
  }
  const attempts = [{ audio: true, video }, { audio: true }, { video }];
  let last;
  for (const c of attempts) {
    try {
      return await navigator.mediaDevices.getUserMedia(c);
    } catch (e) {
      last = e;
      if (e.name !== 'NotFoundError' && e.name !== 'OverconstrainedError') break;
    }
  }
  const words = {
    NotAllowedError: 'the browser was not allowed to use the camera and microphone',
    NotFoundError: 'no camera or microphone was found',
    NotReadableError: 'the camera or microphone is in use by another application',
  };
  throw new Error(`Publishing failed: ${words[last?.name] || last?.message || 'no media'}.`);
}
