// The call page: enter a name and a room, join, see and hear everyone in it.
// The room session itself (join, events, offers) is js/call.js; this file
// holds the page's state, the tiles and the buttons.

import { setToken } from './js/api.js';
import { layerForTile } from './js/simulcast.js';
import { shownVideo, subscriptionBody } from './js/subscriptions.js';
import { CallSession } from './js/call.js';
import { CallStats } from './js/call_stats.js';
import { CallTile } from './js/call_tile.js';
import { openCameraAndMic, openDevice } from './js/media.js';
import { $, showError, clearErrors } from './js/ui.js';

const ROOM_RE = /^[A-Za-z0-9_.-]{1,64}$/;
const displayName = (p) => p.name || `Guest ${p.participant.slice(0, 4)}`;

const state = {
  session: null,     // CallSession while in a call
  stats: null,       // CallStats of its PeerConnection
  self: null,        // our own CallTile
  tiles: new Map(),  // participant id -> CallTile, in join order
  speaker: '',
  speakerEvents: 0,  // active-speaker events seen (tests read it)
  view: 'grid',      // or 'speaker': the speaker big, a strip of the others
  shown: [],         // participants whose video we receive, speaker view's big one first
  slotAudio: new Map(),  // mid -> <audio> for the audio slots of a large room
  busy: false,       // joining, or turning on a device
};

/* ---------- joining and leaving ---------- */

function readForm() {
  const room = $('room').value.trim();
  const name = $('name').value.trim();
  const token = $('token').value.trim();
  if (!name && !token) return { error: 'Please enter your name.', field: 'name' };
  if (!ROOM_RE.test(room)) {
    return { error: 'Please enter a room name of 1 to 64 letters, digits, "-", "_" or ".".', field: 'room' };
  }
  return { room, name };
}

async function join(event) {
  event.preventDefault();
  if (state.busy || state.session) return;
  const form = readForm();
  if (form.error) {
    showError(new Error(form.error));
    $(form.field).focus();
    return;
  }
  clearErrors();
  try { localStorage.setItem('sfu.name', form.name); } catch { /* private mode */ }
  history.replaceState(null, '', '#room=' + encodeURIComponent(form.room));
  state.busy = true;
  $('join').disabled = true;
  $('join').textContent = 'Starting camera…';
  try {
    const { stream, problems } = await openCameraAndMic();
    if (problems.length) showError(new Error(`Joining without them. ${problems.join('. ')}.`));
    enterCallView(form, stream);
    const session = new CallSession({ stream, on: {
      roster: render, media: render, speaker: setSpeaker, state: setStatus,
      ended: (why) => { showError(new Error(`The call ended: ${why}.`)); leave(); },
      error: showError,
    } });
    state.session = session;
    state.stats = new CallStats(session.pc);
    setStatus('connecting');
    await session.join(form.room, form.name);
    state.self.root.dataset.participant = session.participant;
  } catch (e) {
    showError(e);
    await leave();
  } finally {
    state.busy = false;
    $('join').disabled = false;
    $('join').textContent = 'Join';
    syncButtons();
  }
}

function enterCallView(form, stream) {
  $('room-label').textContent = form.room;
  document.title = `${form.room} · Call`;
  $('join-view').hidden = true;
  $('call-view').hidden = false;
  state.self = new CallTile({ id: '', name: form.name, self: true });
  state.self.setTracks(stream.getTracks());
  $('grid').append(state.self.root);
  syncButtons();
  layout();
}

async function leave() {
  const session = state.session;
  state.session = null;
  state.stats = null;
  for (const t of state.tiles.values()) t.remove();
  state.tiles.clear();
  state.self?.remove();
  state.self = null;
  state.speaker = '';
  state.shown = [];
  playSlots([]);
  $('call-view').hidden = true;
  $('join-view').hidden = false;
  document.title = 'Call · SFU';
  $('join').focus();
  try {
    await session?.close();
  } catch (e) {
    showError(e);
  }
}

/* ---------- what the room looks like ---------- */

// Roster and media changes both land here: one tile per participant in the
// roster, showing the tracks the last offer mapped to them.
function render() {
  const s = state.session;
  if (!s) return;
  const media = s.media();
  for (const [id, p] of s.roster) {
    let tile = state.tiles.get(id);
    if (!tile) {
      tile = new CallTile({ id, name: displayName(p) });
      state.tiles.set(id, tile);
      $('grid').append(tile.root);
    }
    tile.setName(displayName(p));
    tile.setTracks((media.get(id) || []).map((m) => m.track));
    tile.setFlag('speaking', id === state.speaker);
  }
  for (const [id, tile] of state.tiles) {
    if (s.roster.has(id)) continue;
    tile.remove();              // participant-left: gone at once
    state.tiles.delete(id);
  }
  playSlots(media.get('') || []);
  const n = s.roster.size + 1;
  $('people-count').textContent = n === 1 ? 'just you' : `${n} people`;
  layout();
}

function setSpeaker(id) {
  state.speaker = id;
  state.speakerEvents++;
  for (const [pid, t] of state.tiles) t.setFlag('speaking', pid === id);
  state.self?.setFlag('speaking', !!id && id === state.session?.participant);
  layout();     // the speaker comes first among the pictures we receive
}

// A large room sends the loudest few on audio slots, whoever they are: each
// plays in an element of its own (the tiles play their participant's sound
// in small rooms).
function playSlots(list) {
  const want = new Map(list.filter((m) => m.kind === 'audio').map((m) => [m.mid, m.track]));
  for (const [mid, a] of state.slotAudio) {
    if (want.get(mid) === a.srcObject?.getTracks()[0]) continue;
    a.srcObject = null;
    a.remove();
    state.slotAudio.delete(mid);
  }
  for (const [mid, track] of want) {
    if (state.slotAudio.has(mid)) continue;
    const a = document.createElement('audio');
    a.autoplay = true;
    a.srcObject = new MediaStream([track]);
    a.dataset.mid = mid;
    document.body.append(a);
    a.play().catch(() => {});
    state.slotAudio.set(mid, a);
  }
}

const STATUS = { new: 'connecting…', connecting: 'connecting…', connected: '',
                 disconnected: 'reconnecting…', failed: 'reconnecting…', closed: '' };
function setStatus(s) {
  $('call-status').textContent = STATUS[s] ?? s;
  $('call-status').dataset.state = s;
}

// Tiles as large as fit: try each column count, keep the one that gives the
// widest 16:9 tile inside the grid's box.
// In speaker view the big tile takes the room the strip (one row of small
// tiles) leaves.
const STRIP_W = 192;
function layout() {
  const grid = $('grid');
  const s = state.session;
  grid.dataset.view = state.view;
  if (s) {
    const ids = [...s.roster.values()]
      .filter((p) => !p.tracks?.length || p.tracks.some((t) => t.kind === 'video'))
      .map((p) => p.participant);
    state.shown = shownVideo(ids, state.speaker, state.view);
  }
  for (const [id, t] of state.tiles) t.setFlag('featured', state.view === 'speaker' && id === state.shown[0]);
  const n = grid.children.length;
  if (!n || grid.clientWidth === 0) return;
  const cs = getComputedStyle(grid);
  const gap = parseFloat(cs.columnGap) || 0;
  const w = grid.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
  const h = grid.clientHeight - parseFloat(cs.paddingTop) - parseFloat(cs.paddingBottom);
  if (state.view === 'speaker') {
    grid.style.setProperty('--tile-w', `${STRIP_W}px`);
    grid.style.setProperty('--feature-h', `${Math.max(180, Math.floor(h - (STRIP_W * 9) / 16 - gap))}px`);
    subscribeTiles();
    return;
  }
  let best = 0;
  for (let cols = 1; cols <= n; cols++) {
    const rows = Math.ceil(n / cols);
    const tw = Math.min((w - gap * (cols - 1)) / cols, ((h - gap * (rows - 1)) / rows) * 16 / 9);
    best = Math.max(best, tw);
  }
  grid.style.setProperty('--tile-w', `${Math.max(120, Math.floor(best))}px`);
  subscribeTiles();
}

// The video of the tiles shown, each at the size shown (API.md
// "Subscriptions"); against a server without subscriptions, caps instead.
function subscribeTiles() {
  const s = state.session;
  if (!s) return;
  const height = (id) => state.tiles.get(id)?.root.clientHeight || 0;
  s.subscribe(subscriptionBody(state.shown, height, devicePixelRatio))
    .then((ok) => { if (!ok) capTiles(); })
    .catch(showError);
}

function toggleView() {
  state.view = state.view === 'grid' ? 'speaker' : 'grid';
  $('view').setAttribute('aria-pressed', String(state.view === 'speaker'));
  layout();
}

// Small tiles ask for a small simulcast layer (API.md "Simulcast layers"):
// after each layout and with each stats pass, so reused m-lines follow.
function capTiles() {
  const s = state.session;
  if (!s) return;
  for (const [id, list] of s.media()) {
    const t = state.tiles.get(id);
    const v = list.find((m) => m.kind === 'video');
    if (t && v) s.capVideo(v.mid, id, layerForTile(t.video.clientHeight, devicePixelRatio));
  }
}

/* ---------- microphone and camera ---------- */

function syncButtons() {
  const s = state.session;
  for (const [id, kind, on, off] of [['mic', 'audio', 'Mute microphone', 'Unmute microphone'],
                                      ['cam', 'video', 'Turn camera off', 'Turn camera on']]) {
    const btn = $(id);
    const track = s?.stream.getTracks().find((t) => t.kind === kind)
      || state.self?.stream.getTracks().find((t) => t.kind === kind);
    const live = !!track && track.enabled;
    btn.setAttribute('aria-pressed', String(!live));   // pressed = off
    btn.title = live ? on : off;
    btn.disabled = state.busy;
  }
  state.self?.setFlag('mic-off', $('mic').getAttribute('aria-pressed') === 'true');
  state.self?.updateVideoState();
}

async function toggle(kind) {
  const s = state.session;
  if (!s || state.busy) return;
  if (s.hasTrack(kind)) {
    const track = s.stream.getTracks().find((t) => t.kind === kind);
    s.setEnabled(kind, !track.enabled);
    syncButtons();
    return;
  }
  // Joined without this device: open it now and start sending it.
  state.busy = true;
  syncButtons();
  try {
    const { track, problem } = await openDevice(kind);
    if (!track) throw new Error(`${problem}.`);
    await s.startSending(track);
    state.self?.setTracks(s.stream.getTracks());
  } catch (e) {
    showError(e);
  } finally {
    state.busy = false;
    syncButtons();
  }
}

/* ---------- once a second: stats overlays ---------- */

async function updateStats() {
  const s = state.session;
  if (!s || !state.stats || document.hidden) return;
  const owners = new Map();
  for (const [id, list] of s.media()) for (const m of list) owners.set(m.mid, id);
  const samples = await state.stats.sample(owners).catch(() => null);
  if (!samples || state.session !== s) return;
  state.self?.showStats(samples.get('self'));
  for (const [id, t] of state.tiles) t.showStats(samples.get(id));
  subscribeTiles();
}

/* ---------- start-up ---------- */

function init() {
  $('join-form').addEventListener('submit', join);
  $('leave').addEventListener('click', () => leave());
  $('mic').addEventListener('click', () => toggle('audio'));
  $('cam').addEventListener('click', () => toggle('video'));
  $('view').addEventListener('click', toggleView);
  $('token').addEventListener('change', () => {
    setToken($('token').value);
    try { sessionStorage.setItem('sfu.token', $('token').value); } catch { /* ignore */ }
  });
  try {
    $('name').value = localStorage.getItem('sfu.name') || '';
    $('token').value = sessionStorage.getItem('sfu.token') || '';
  } catch { /* storage disabled */ }
  setToken($('token').value);
  // A shared link (#room=NAME) fills in the room; joining stays a click,
  // which also lets the browser play the others' sound.
  const room = new URLSearchParams(location.hash.slice(1)).get('room');
  if (room) $('room').value = room;
  ($('name').value ? $('room').value ? $('join') : $('room') : $('name')).focus();

  new ResizeObserver(layout).observe($('grid'));
  setInterval(updateStats, 1000);
  // Leaving the page leaves the call; keepalive lets the DELETE finish.
  addEventListener('pagehide', () => state.session?.close({ keepalive: true }).catch(() => {}));
}

// For tests and debugging: a read-only view of the call.
window.sfuPage = Object.freeze({
  snapshot: () => {
    const s = state.session;
    const tile = (t) => ({
      participant: t.id, name: t.name, speaking: t.root.classList.contains('speaking'),
      video: !t.root.classList.contains('no-video'),
      kinds: t.stream.getTracks().map((x) => x.kind).sort(),
      totals: { ...t.totals }, stats: t.last,
    });
    return {
      participant: s?.participant || '',
      connectionState: s?.pc.connectionState || 'closed',
      answered: s?.answered || 0,
      speaker: state.speaker,
      speakerEvents: state.speakerEvents,
      view: state.view,
      shown: [...state.shown],
      subscribed: s?.subscribed ? JSON.parse(s.subscribed) : null,
      slots: [...state.slotAudio.keys()],
      mids: s ? { ...s.mids } : {},
      msids: s ? Object.fromEntries(s.msids) : {},
      self: state.self && tile(state.self),
      tiles: [...state.tiles.values()].map(tile),
    };
  },
});

init();
