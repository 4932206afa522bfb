// One person in the call grid: their video (with their sound), an initial
// when there is no picture, their name, a stats overlay, and a ring while
// they are the active speaker. Our own tile is the same, mirrored and muted.

import { $ } from './ui.js';
import { formatStats } from './stats.js';

// A stable colour per participant, for the initial shown without video.
function hue(id) {
  let h = 0;
  for (const c of id) h = (h * 31 + c.charCodeAt(0)) % 360;
  return h;
}

export class CallTile {
  /** @param {{id: string, name: string, self?: boolean}} o */
  constructor({ id, name, self = false }) {
    this.id = id;
    this.self = self;
    this.root = $('tile-template').content.firstElementChild.cloneNode(true);
    this.root.dataset.participant = id;
    this.root.classList.toggle('self', self);
    this.root.style.setProperty('--hue', hue(id || 'me'));
    this.video = this.root.querySelector('video');
    this.video.muted = self;            // never play ourselves back
    this.stream = new MediaStream();
    this.video.srcObject = this.stream;
    this.fields = {};
    for (const k of ['bitrate', 'loss', 'rtt', 'video']) this.fields[k] = this.root.querySelector('.s-' + k);
    this.unmuteBtn = this.root.querySelector('.unmute');
    this.unmuteBtn.addEventListener('click', () => this.unmute());
    this.totals = { frames: 0, audioPackets: 0 };   // for tests: since the tile appeared
    this.last = null;
    this.setName(name);
    this.updateVideoState();
  }

  setName(name) {
    this.name = name;
    const label = this.self ? (name ? `${name} (you)` : 'You') : name;
    this.root.querySelector('.tile-name').textContent = label;
    this.root.querySelector('.initial').textContent = (label.trim()[0] || '?').toUpperCase();
    this.root.setAttribute('aria-label', label);
  }

  /** Shows exactly these tracks (the call may move an m-line between people). */
  setTracks(tracks) {
    const want = new Set(tracks);
    for (const t of this.stream.getTracks()) if (!want.has(t)) this.stream.removeTrack(t);
    for (const t of want) {
      if (this.stream.getTracks().includes(t)) continue;
      this.stream.addTrack(t);
      // A received track is muted while no media arrives (e.g. a recycled
      // m-line before the first packets): show the initial meanwhile.
      t.addEventListener('mute', () => this.updateVideoState());
      t.addEventListener('unmute', () => this.updateVideoState());
    }
    this.updateVideoState();
    if (want.size) this.play();
  }

  updateVideoState() {
    const v = this.stream.getVideoTracks()[0];
    const showing = !!v && v.readyState === 'live' && !v.muted && v.enabled;
    this.root.classList.toggle('no-video', !showing);
  }

  play() {
    this.video.play().catch((e) => {
      // Autoplay with sound refused (no click on this page yet): play
      // muted and offer a button.
      if (e.name !== 'NotAllowedError' || this.self) return;
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

  setFlag(name, on) { this.root.classList.toggle(name, on); }

  /** One stats sample from CallStats (or undefined: nothing this second). */
  showStats(s) {
    if (!s) return;
    this.totals.frames += s.frames || 0;
    this.totals.audioPackets += s.audioPackets || 0;
    this.last = s;
    const f = formatStats(s);
    for (const k of Object.keys(this.fields)) this.fields[k].textContent = f[k];
  }

  remove() {
    this.video.srcObject = null;
    this.root.remove();
  }
}
