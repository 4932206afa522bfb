// The room's participant list: polls GET /rooms/{room} and keeps one <li> per
// participant (keyed by id, so focus and buttons survive each refresh).

import { roomParticipants } from './api.js';
import { $, el } from './ui.js';

const POLL_MS = 2000;

export class RoomPoller {
  /** onList(participants) after each good poll; onError(err) after a failed one. */
  constructor(room, onList, onError) {
    this.room = room;
    this.timer = null;
    this.stopped = false;
    this.onList = onList;
    this.onError = onError;
  }

  start() { this.poll(); }

  /** Poll now (e.g. right after publishing) instead of waiting for the timer. */
  refresh() { clearTimeout(this.timer); this.poll(); }

  stop() { this.stopped = true; clearTimeout(this.timer); }

  async poll() {
    if (this.stopped) return;
    try {
      const list = await roomParticipants(this.room);
      if (!this.stopped) this.onList(list);
    } catch (e) {
      if (!this.stopped) this.onError(e);
    }
    if (!this.stopped) {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.poll(), POLL_MS);
    }
  }
}

export const displayName = (p) => p.name || `Guest ${p.participant.slice(0, 6)}`;

function kinds(p) {
  const k = new Set((p.tracks || []).map((t) => t.kind));
  return [k.has('video') ? 'video' : '', k.has('audio') ? 'audio' : ''].filter(Boolean);
}

/**
 * Renders the list. `me` is our own participant id (marked "you", named
 * `myName` until the server passes display names for WHIP),
 * `watching` the ids with an open viewer, `onWatch(p)` the button's action.
 */
export function renderPeople(list, { me, myName, watching, onWatch }) {
  const ul = $('people');
  const seen = new Set();
  for (const p of list) {
    seen.add(p.participant);
    let li = ul.querySelector(`li[data-participant="${CSS.escape(p.participant)}"]`);
    if (!li) {
      li = el('li', 'person');
      li.dataset.participant = p.participant;
      const who = el('div', 'who');
      who.append(el('span', 'avatar'), el('span', 'person-name'), el('span', 'person-meta'));
      const btn = el('button', 'watch small', 'Watch');
      btn.type = 'button';
      btn.addEventListener('click', () => onWatch(li.person));
      li.append(who, btn);
      ul.append(li);
    }
    li.person = p;
    const mine = p.participant === me;
    const name = (mine && myName ? myName : displayName(p)) + (mine ? ' (you)' : '');
    li.classList.toggle('me', mine);
    li.querySelector('.avatar').textContent = name.charAt(0).toUpperCase();
    li.querySelector('.person-name').textContent = name;
    li.querySelector('.person-name').title = name;
    const k = kinds(p);
    li.querySelector('.person-meta').textContent = k.length ? k.join(' + ') : 'no media yet';
    const btn = li.querySelector('button');
    const open = watching.has(p.participant);
    btn.disabled = open;
    btn.textContent = open ? 'Watching' : 'Watch';
    btn.setAttribute('aria-label', open ? `Watching ${name}` : `Watch ${name}`);
  }
  for (const li of [...ul.children]) if (!seen.has(li.dataset.participant)) li.remove();
  $('people-count').textContent = list.length ? `(${list.length})` : '';
  $('people-status').textContent = list.length ? '' : 'No one is publishing in this room yet.';
  return seen;
}
