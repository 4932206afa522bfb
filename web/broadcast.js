// The broadcast page: choose a room, publish camera and microphone (WHIP), watch
// others (WHEP). Each concern lives in its own module under js/; this file
// holds the page's state and wires buttons to it.

import { setToken } from './js/api.js';
import { Publisher, Viewer, getCameraAndMic } from './js/rtc.js';
import { RoomPoller, renderPeople, displayName } from './js/people.js';
import { Tile } from './js/tile.js';
import { $, showError, clearErrors } from './js/ui.js';

const ROOM_RE = /^[A-Za-z0-9_.-]{1,64}$/;

const state = {
  room: '',
  name: '',
  poller: null,
  publisher: null,   // { session: Publisher, tile: Tile }
  viewers: new Map(), // participant id -> { session: Viewer, tile: Tile }
  people: [],        // last GET /rooms/{room} participants
  busy: false,       // a publish is in progress
};

/* ---------- entering and leaving a room ---------- */

function enterRoom(event) {
  event.preventDefault();
  const room = $('room').value.trim();
  if (!ROOM_RE.test(room)) {
    showError(new Error('Please enter a room name of 1 to 64 letters, digits, "-", "_" or ".".'));
    $('room').focus();
    return;
  }
  clearErrors();
  state.room = room;
  state.name = $('name').value.trim();
  try { localStorage.setItem('sfu.name', state.name); } catch { /* private mode */ }
  history.replaceState(null, '', '#room=' + encodeURIComponent(room));
  $('room-label').textContent = room;
  $('me-label').textContent = state.name ? `as ${state.name}` : '';
  $('room-form').hidden = true;
  $('room-bar').hidden = false;
  $('room-view').hidden = false;
  state.poller = new RoomPoller(room, onPeople, onPollError);
  state.poller.start();
  $('publish').focus();
}

async function leaveRoom() {
  state.poller?.stop();
  state.poller = null;
  await Promise.all([stopPublishing(), ...[...state.viewers.keys()].map(closeViewer)]);
  state.people = [];
  renderPeople([], peopleOptions());
  $('room-view').hidden = true;
  $('room-bar').hidden = true;
  $('room-form').hidden = false;
  history.replaceState(null, '', location.pathname + location.search);
  $('room').focus();
}

function onPeople(list) {
  state.people = list;
  const present = renderPeople(list, peopleOptions());
  // A watched participant who left: the viewer stays (media resumes if they
  // publish again under the same id) but says so.
  for (const [id, v] of state.viewers) {
    if (!present.has(id)) v.tile.setState('gone');
    else if (v.tile.root.dataset.state === 'gone') v.tile.setState(v.session.pc.connectionState);
  }
  $('people-status').classList.remove('error');
}

function onPollError(err) {
  // Polling repeats every 2 s: report in the list's status line, not as alerts.
  $('people-status').textContent = err.message;
  $('people-status').classList.add('error');
}

function peopleOptions() {
  return {
    me: state.publisher?.session.participant || '',
    myName: state.name,
    watching: new Set(state.viewers.keys()),
    onWatch: watch,
  };
}

/* ---------- publishing (WHIP) ---------- */

function setPublishUi(on) {
  $('publish').disabled = on || state.busy;
  $('publish').hidden = on;
  // While idle the bar holds only "Publish"; while publishing, the rest.
  for (const id of ['stop', 'mute-mic', 'mute-cam']) $(id).hidden = !on;
  $('stop').disabled = !on;
  $('mute-mic').disabled = !on || !state.publisher?.session.stream.getAudioTracks().length;
  $('mute-cam').disabled = !on || !state.publisher?.session.stream.getVideoTracks().length;
  if (!on) {
    $('mute-mic').setAttribute('aria-pressed', 'false');
    $('mute-cam').setAttribute('aria-pressed', 'false');
  }
  updateEmpty();
}

async function publish() {
  if (state.publisher || state.busy) return;
  state.busy = true;
  $('publish').disabled = true;
  $('publish-status').textContent = 'Starting camera…';
  let stream = null;
  let tile = null;
  try {
    stream = await getCameraAndMic();
    tile = new Tile({ title: `${state.name || 'You'} (you)`, kind: 'self', closeLabel: 'Stop',
                      onClose: stopPublishing });
    tile.video.srcObject = stream;          // preview at once, before the SFU answers
    tile.video.muted = true;
    $('publish-status').textContent = 'Connecting…';
    const session = await Publisher.start(state.room, state.name, stream);
    state.publisher = { session, tile };
    tile.root.dataset.participant = session.participant;
    tile.attach(stream, session.pc, 'send');
    tile.setState(session.pc.connectionState);
    // `disconnected`/`failed` show on the tile while the session restarts
    // ICE by itself; only when that gives up is publishing over.
    session.onstate = (s) => tile.setState(s);
    session.onlost = (reason) => {
      tile.setState('lost');
      showError(new Error(`Publishing stopped: ${reason}.`));
    };
    $('publish-status').textContent = '';
    state.poller?.refresh();
  } catch (e) {
    stream?.getTracks().forEach((t) => t.stop());
    tile?.remove();
    $('publish-status').textContent = '';
    showError(e);
  } finally {
    state.busy = false;
    setPublishUi(!!state.publisher);
  }
}

async function stopPublishing() {
  const p = state.publisher;
  if (!p) return;
  state.publisher = null;
  p.tile.remove();
  setPublishUi(false);
  try {
    await p.session.close();
  } catch (e) {
    showError(e);
  }
  state.poller?.refresh();
}

// Toggle buttons keep their label ("Mute mic", "Camera off"); aria-pressed
// says whether it is in effect, as WAI-ARIA's toggle button pattern asks.
function toggle(kind, btn) {
  const p = state.publisher;
  if (!p) return;
  const off = btn.getAttribute('aria-pressed') !== 'true';
  p.session.setEnabled(kind, !off);
  btn.setAttribute('aria-pressed', String(off));
  p.tile.root.classList.toggle(kind === 'audio' ? 'mic-off' : 'cam-off', off);
}

/* ---------- watching (WHEP) ---------- */

async function watch(person) {
  const id = person.participant;
  if (state.viewers.has(id)) return;
  const tile = new Tile({ title: displayName(person), kind: 'viewer', participant: id,
                          onClose: () => closeViewer(id) });
  const entry = { session: null, tile };
  state.viewers.set(id, entry);
  renderPeople(state.people, peopleOptions());
  updateEmpty();
  try {
    const session = await Viewer.start(state.room, id);
    if (state.viewers.get(id) !== entry) {   // closed while connecting
      await session.close().catch(() => {});
      return;
    }
    entry.session = session;
    tile.attach(session.stream, session.pc, 'recv');
    tile.setState(session.pc.connectionState);
    session.onstate = (s) => tile.setState(s);
    session.onlost = () => tile.setState('lost');
  } catch (e) {
    showError(e);
    if (state.viewers.get(id) === entry) closeViewer(id);
  }
}

async function closeViewer(id) {
  const v = state.viewers.get(id);
  if (!v) return;
  state.viewers.delete(id);
  v.tile.remove();
  renderPeople(state.people, peopleOptions());
  updateEmpty();
  try {
    await v.session?.close();
  } catch (e) {
    showError(e);
  }
}

/* ---------- once a second: stats overlays ---------- */

function tiles() {
  const all = [...state.viewers.values()].map((v) => v.tile);
  if (state.publisher) all.unshift(state.publisher.tile);
  return all;
}

function updateEmpty() {
  $('empty-stage').hidden = !!state.publisher || state.viewers.size > 0 || state.busy;
}

setInterval(() => {
  if (document.hidden) return;   // no work in a background tab
  for (const t of tiles()) t.updateStats();
}, 1000);

/* ---------- start-up ---------- */

function init() {
  $('room-form').addEventListener('submit', enterRoom);
  $('leave').addEventListener('click', leaveRoom);
  $('publish').addEventListener('click', publish);
  $('stop').addEventListener('click', stopPublishing);
  $('mute-mic').addEventListener('click', () => toggle('audio', $('mute-mic')));
  $('mute-cam').addEventListener('click', () => toggle('video', $('mute-cam')));
  $('token').addEventListener('change', () => {
    setToken($('token').value);
    try { sessionStorage.setItem('sfu.token', $('token').value); } catch { /* ignore */ }
  });
  try {
    $('name').value = localStorage.getItem('sfu.name') || '';
    $('token').value = sessionStorage.getItem('sfu.token') || '';
  } catch { /* storage disabled */ }
  setToken($('token').value);

  // A shared link (#room=NAME) opens that room directly.
  const room = new URLSearchParams(location.hash.slice(1)).get('room');
  if (room) {
    $('room').value = room;
    if (ROOM_RE.test(room)) $('room-form').requestSubmit();
  }

  // Leaving the page ends our sessions; keepalive lets the DELETEs finish.
  addEventListener('pagehide', () => {
    state.poller?.stop();
    state.publisher?.session.close({ keepalive: true }).catch(() => {});
    for (const v of state.viewers.values()) v.session?.close({ keepalive: true }).catch(() => {});
  });
}

// For tests and debugging: a read-only view of the page's sessions.
window.sfuPage = Object.freeze({
  snapshot: () => ({
    room: state.room,
    publisher: state.publisher && {
      participant: state.publisher.session.participant,
      connectionState: state.publisher.session.pc.connectionState,
      stats: state.publisher.tile.last || null,
    },
    viewers: [...state.viewers].map(([id, v]) => ({
      participant: id,
      connectionState: v.session?.pc.connectionState || 'new',
      stats: v.tile.last || null,
    })),
  }),
});

init();
