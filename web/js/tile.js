// A tile: one <video> with a name bar, a connection state, a stats overlay
// and a Close button. Used for the local preview and for each viewer; a
// future room session would make one per remote participant the same way.

import { $ } from './ui.js';
import { StatsMeter, formatStats } from './stats.js';

const STATE_WORDS = {
  new: 'starting', connecting: 'connecting…', connected: 'live',
  // `failed` too: the session restarts ICE by itself (ice_restart.js) and
  // says `lost` when that gives up.
  disconnected: 'reconnecting…', failed: 'reconnecting…', lost: 'connection lost',
  closed: 'closed', gone: 'left the room',
};

export class Tile {
  /**
   * @param {object} o
   * @param {string} o.title         name shown on the tile
   * @param {string} o.kind          'self' (local preview) or 'viewer'
   * @param {string} o.participant   public participant id
   * @param {string} o.closeLabel    text of the close button
   * @param {() => void} o.onClose
   */
  constructor({ title, kind, participant, closeLabel = 'Close', onClose }) {
    this.root = $('tile-template').content.firstElementChild.cloneNode(true);
    this.root.dataset.kind = kind;
    this.root.dataset.participant = participant || '';
    this.video = this.root.querySelector('video');
    this.video.setAttribute('aria-label', `Video of ${title}`);
    this.root.querySelector('.tile-name').textContent = title;
    this.stateEl = this.root.querySelector('.tile-state');
    const close = this.root.querySelector('.tile-close');
    close.textContent = closeLabel;
    close.setAttribute('aria-label', `${closeLabel}: ${title}`);
    close.addEventListener('click', () => onClose?.());
    this.unmuteBtn = this.root.querySelector('.unmute');
    this.unmuteBtn.addEventListener('click', () => this.unmute());
    this.meter = null;
    this.fields = {};
    for (const k of ['bitrate', 'loss', 'rtt', 'video']) this.fields[k] = this.root.querySelector('.s-' + k);
    this.setState('new');
    $('tiles').append(this.root);
  }

  /** Shows a stream. The local preview stays muted (no echo) and mirrored. */
  attach(stream, pc, direction) {
    const self = this.root.dataset.kind === 'self';
    this.video.muted = self;
    this.video.srcObject = stream;
    this.meter = new StatsMeter(pc, direction);
    this.video.play().catch((e) => {
      // Autoplay with sound refused: play muted and offer a button.
      if (e.name !== 'NotAllowedError') return;
      this.video.muted = true;
      this.video.play().catch(() => {});
      this.unmuteBtn.hidden = false;
    });
  }

  unmute() {
    this.video.muted = false;
    this.video.play().catch(() => {});
    this.unmuteBtn.hidden = true;
  }

  setState(state) {
    this.root.dataset.state = state;
    this.stateEl.textContent = STATE_WORDS[state] || state;
  }

  setTitle(title) { this.root.querySelector('.tile-name').textContent = title; }

  /** Called once a second by the page. Returns the raw sample (tests read it). */
  async updateStats() {
    if (!this.meter) return null;
    const s = await this.meter.sample().catch(() => null);
    if (!s) return null;
    const f = formatStats(s);
    for (const k of Object.keys(f)) this.fields[k].textContent = f[k];
    this.last = s;
    return s;
  }

  remove() {
    this.video.srcObject = null;
    this.root.remove();
  }
}
