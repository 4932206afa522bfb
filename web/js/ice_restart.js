// Restarting ICE by ourselves when the path to the server breaks (another
// network, a laptop waking up): on `disconnected` or `failed`, restart at
// about 0, 0.3, 1.2 and 2.7 s after the trouble began, then every 3 s, until
// ICE is connected again or `giveUpMs` has passed (the server ends a quiet
// session media.liveness_timeout_ms after it went quiet, 15 s by default).
// The PeerConnection, its tracks and the page's tiles stay as they are.

export const RESTART_AT_MS = [0, 300, 1200, 2700];
export const RESTART_EVERY_MS = 3000;
export const GIVE_UP_MS = 20000;
// After an attempt's signaling finished, its checks get this long before
// the next attempt would replace its ICE generation.
const SETTLE_MS = 250;

/**
 * When attempt `n` (0, 1, ...) starts, in ms after the trouble began, or
 * null when there is none: the schedule alone, for the unit test.
 */
export function restartAt(n, { at = RESTART_AT_MS, every = RESTART_EVERY_MS, giveUpMs = GIVE_UP_MS } = {}) {
  const t = n < at.length ? at[n] : at[at.length - 1] + every * (n - at.length + 1);
  return t < giveUpMs ? t : null;
}

const healthy = (s) => s === 'connected' || s === 'completed';
const broken = (s) => s === 'disconnected' || s === 'failed';

export class IceRestarter {
  /**
   * @param {RTCPeerConnection} pc
   * @param {() => Promise<void>} restart  one restart: new offer, signaling, answer
   * @param {object} o  onGiveUp(reason), onAttempt(n), and restartAt's options;
   *   `now` and `setTimer`/`clearTimer` replace the clock in the unit test
   */
  constructor(pc, restart, o = {}) {
    this.pc = pc;
    this.restart = restart;
    this.o = o;
    this.now = o.now || (() => Date.now());
    this.setTimer = o.setTimer || ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = o.clearTimer || ((t) => clearTimeout(t));
    this.since = null;          // when the trouble began; null while healthy
    this.n = 0;                 // the next attempt
    this.timer = null;
    this.busy = false;
    this.closed = false;
    this.attempts = 0;          // all attempts so far, for tests and stats
    this.onState = () => this.check();
    pc.addEventListener('iceconnectionstatechange', this.onState);
  }

  check() {
    if (this.closed) return;
    const s = this.pc.iceConnectionState;
    if (healthy(s)) {
      this.since = null;
      this.clearTimer(this.timer);
      this.timer = null;
    } else if (broken(s) && this.since === null) {
      this.since = this.now();
      this.n = 0;
      this.schedule();
    }
  }

  schedule(minMs = 0) {
    const t = restartAt(this.n, this.o);
    if (t === null) {           // the last attempt's checks get until giveUpMs
      const end = this.since + (this.o.giveUpMs ?? GIVE_UP_MS);
      this.timer = this.setTimer(() => {
        this.timer = null;
        if (this.since !== null && !healthy(this.pc.iceConnectionState)) {
          this.giveUp('the connection to the server was lost');
        }
      }, Math.max(minMs, end - this.now()));
      return;
    }
    this.timer = this.setTimer(() => this.attempt(), Math.max(minMs, this.since + t - this.now()));
  }

  async attempt() {
    this.timer = null;
    if (this.closed || this.since === null || healthy(this.pc.iceConnectionState)) return;
    const n = this.n++;
    if (!this.busy) {           // one at a time; a slow one counts for the next slot too
      this.busy = true;
      this.attempts++;
      this.o.onAttempt?.(n);
      try {
        await this.restart();
      } catch (e) {
        // 403/404: the session is gone; nothing to restart.
        if (e && (e.status === 404 || e.status === 403)) {
          this.busy = false;
          this.giveUp('the server ended the session');
          return;
        }
      }
      this.busy = false;
    }
    if (!this.closed && this.since !== null && !healthy(this.pc.iceConnectionState) && !this.timer) {
      this.schedule(SETTLE_MS);
    }
  }

  giveUp(reason) {
    if (this.closed) return;
    this.close();
    this.o.onGiveUp?.(reason);
  }

  close() {
    this.closed = true;
    this.clearTimer(this.timer);
    this.timer = null;
    this.pc.removeEventListener('iceconnectionstatechange', this.onState);
  }
}
