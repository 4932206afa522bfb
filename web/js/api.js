// The SFU's HTTP API as the pages use it (see docs/API.md): room sessions
// (join, answer, re-offer), WHIP, WHEP, ICE restart, session DELETE and GET /rooms/{room}. Every failure becomes an ApiError
// carrying the HTTP status and the server's one-line text/plain reason.

// Same origin by default. `?api=http://127.0.0.1:8080` points a page served
// elsewhere (a development server) at an SFU; only http(s) URLs are taken.
function apiBase() {
  const given = new URLSearchParams(location.search).get('api');
  if (given) {
    try {
      const u = new URL(given);
      if (u.protocol === 'http:' || u.protocol === 'https:') return u.href.replace(/\/+$/, '') + '/';
    } catch { /* fall through to same origin */ }
  }
  return new URL('/', location.href).href;
}

const BASE = apiBase();
let token = '';

/** Bearer token for servers with [auth] on; empty sends no header. */
export function setToken(t) { token = (t || '').trim(); }

/** Absolute URL of an API path ("whip/room") or of a Location header value. */
export function apiUrl(path) { return new URL(path.replace(/^\/+/, ''), BASE).href; }

export class ApiError extends Error {
  constructor(status, reason, what) {
    super(describe(status, reason, what));
    this.status = status;     // 0: the request never got an answer
    this.reason = reason;
  }
}

// Plain words first, then the status and the server's own reason.
const HINTS = {
  400: 'the server could not read the request',
  401: 'an access token is needed (see Settings)',
  403: 'the access token does not allow this',
  404: 'not found',
  409: 'the session is busy renegotiating',
  413: 'the request was too large',
  415: 'the request had the wrong content type',
  422: 'your browser and the server have no codec in common',
  429: 'too many requests; wait a moment and try again',
  503: 'the server is full right now; try again later',
};

function describe(status, reason, what) {
  if (status === 0) return `${what}: could not reach the server (${reason}).`;
  const hint = HINTS[status] || (status >= 500 ? 'the server had a problem' : 'the request failed');
  return `${what}: ${hint}. The server answered ${status}${reason ? ': ' + reason : ''}.`;
}

// fetch() with the token, turning network failures into ApiError(0).
// A cluster node answers 307 for a room another node serves; fetch follows
// it with the same method and body (docs/API.md, "A cluster of nodes"), but
// drops the Authorization header when the redirect crosses origins (Fetch
// standard), so a 401 after a redirect is asked again at the final URL.
async function call(method, url, what, { body, type, keepalive, ifMatch } = {}) {
  const headers = {};
  if (type) headers['Content-Type'] = type;
  if (ifMatch) headers['If-Match'] = ifMatch;
  if (token) headers.Authorization = 'Bearer ' + token;
  let res;
  try {
    res = await fetch(url, { method, headers, body, keepalive, cache: 'no-store' });
    if (res.status === 401 && res.redirected && token && res.url) {
      res = await fetch(res.url, { method, headers, body, keepalive, cache: 'no-store' });
    }
  } catch (e) {
    throw new ApiError(0, e.message || 'network error', what);
  }
  return res;
}

// A Location or Link target of an answer: after a redirect, relative to the
// node that answered (the one that serves the room); otherwise as before.
function answerUrl(res, path) {
  const elsewhere = res.url && (res.redirected || new URL(res.url).origin !== new URL(BASE).origin);
  return elsewhere ? new URL(path, res.url).href : apiUrl(path);
}

// The reason is one line of text/plain; keep it short whatever comes back.
async function reasonOf(res) {
  const text = await res.text().catch(() => '');
  return text.split('\n')[0].trim().slice(0, 200);
}

/**
 * POST an SDP offer to a WHIP or WHEP endpoint. Resolves to
 * { answer, location, participant } on 201; throws ApiError otherwise.
 */
export async function postOffer(path, sdp, what) {
  const res = await call('POST', apiUrl(path), what, { body: sdp, type: 'application/sdp' });
  if (res.status !== 201) throw new ApiError(res.status, await reasonOf(res), what);
  const location = res.headers.get('Location');
  if (!location) throw new ApiError(res.status, 'the answer had no Location header', what);
  return {
    answer: await res.text(),
    location: answerUrl(res, location),
    participant: res.headers.get('X-Participant-Id') || '',
  };
}

/** DELETE a session URL. `keepalive` lets it outlive the page (pagehide). */
export async function deleteSession(url, what, keepalive = false) {
  const res = await call('DELETE', url, what, { keepalive });
  if (res.status !== 200 && res.status !== 204) {
    throw new ApiError(res.status, await reasonOf(res), what);
  }
  return res.status;
}

/** GET /rooms/{room}: its participants, or [] when the room does not exist (404). */
export async function roomParticipants(room) {
  const what = 'Could not list the room';
  const res = await call('GET', apiUrl('rooms/' + encodeURIComponent(room)), what);
  if (res.status === 404) return [];
  if (res.status !== 200) throw new ApiError(res.status, await reasonOf(res), what);
  let doc;
  try { doc = await res.json(); } catch { throw new ApiError(200, 'the answer was not JSON', what); }
  return Array.isArray(doc.participants) ? doc.participants : [];
}

export const whipPath = (room, name) =>
  'whip/' + encodeURIComponent(room) + (name ? '?name=' + encodeURIComponent(name) : '');
export const whepPath = (room, participant) =>
  'whep/' + encodeURIComponent(room) + '/' + encodeURIComponent(participant);

/* ---------- room sessions ---------- */

// The events URL from `Link: </sessions/ID/events>; rel="events"`, else the
// session URL + "/events" (the same thing, as API.md defines it).
function eventsLink(res, location) {
  for (const part of (res.headers.get('Link') || '').split(',')) {
    const m = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (m && /\brel="?events"?/.test(m[2])) return answerUrl(res, m[1]);
  }
  return location + '/events';
}

// The layer selection URL from `Link: <...>; rel="urn:ietf:params:whep:ext:core:layer"`,
// else the session URL + "/layer" (API.md "Simulcast layers").
function layerLink(res, location) {
  for (const part of (res.headers.get('Link') || '').split(',')) {
    const m = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (m && /\brel="urn:ietf:params:whep:ext:core:layer"/.test(m[2])) return apiUrl(m[1]);
  }
  return location + '/layer';
}

// The subscription URL from `Link: <...>; rel="urn:x-sfu:subscriptions"`
// (API.md "Subscriptions"); '' when the server has none (an older one).
function subsLink(res) {
  for (const part of (res.headers.get('Link') || '').split(',')) {
    const m = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (m && /\brel="urn:x-sfu:subscriptions"/.test(m[2])) return answerUrl(res, m[1]);
  }
  return '';
}

/**
 * POST /rooms/{room}/join with the offer. The display name goes in ?name=
 * only without a token (with one, the server takes the token's `sub`).
 * Resolves to { answer, location, participant, events } on 201, where
 * `events` is ready for EventSource (it cannot send headers, so the token
 * rides in ?access_token=, RFC 6750 2.3).
 */
export async function joinRoom(room, name, sdp) {
  const what = 'Joining the call failed';
  let path = 'rooms/' + encodeURIComponent(room) + '/join';
  if (name && !token) path += '?name=' + encodeURIComponent(name);
  const res = await call('POST', apiUrl(path), what, { body: sdp, type: 'application/sdp' });
  if (res.status !== 201) throw new ApiError(res.status, await reasonOf(res), what);
  const loc = res.headers.get('Location');
  if (!loc) throw new ApiError(res.status, 'the answer had no Location header', what);
  const location = answerUrl(res, loc);
  const events = new URL(eventsLink(res, location));
  if (token) events.searchParams.set('access_token', token);
  return {
    answer: await res.text(),
    location,
    participant: res.headers.get('X-Participant-Id') || '',
    events: events.href,
    layer: layerLink(res, location),
    subscriptions: subsLink(res),
  };
}

/** POST the session's subscription URL: whose video, at what size (`body` as JSON). */
export async function postSubscriptions(url, body) {
  const what = 'Choosing whom to watch failed';
  const res = await call('POST', url, what, { body: JSON.stringify(body), type: 'application/json' });
  if (res.status !== 204) throw new ApiError(res.status, await reasonOf(res), what);
}

/**
 * POST the session's layer URL: cap what the video m-line `mid` receives at
 * quality `maxLayer` (0 lowest), or -1 for the SFU's automatic choice.
 */
export async function postLayer(url, mid, maxLayer) {
  const what = 'Choosing a video layer failed';
  const body = JSON.stringify(maxLayer >= 0 ? { mediaId: mid, maxLayer } : { mediaId: mid });
  const res = await call('POST', url, what, { body, type: 'application/json' });
  if (res.status !== 204) throw new ApiError(res.status, await reasonOf(res), what);
}

/** POST /sessions/{id}/answer?revision=N: 204, else ApiError (409: stale). */
export async function postAnswer(location, revision, sdp) {
  const what = 'Updating the call failed';
  const res = await call('POST', `${location}/answer?revision=${encodeURIComponent(revision)}`,
    what, { body: sdp, type: 'application/sdp' });
  if (res.status !== 204) throw new ApiError(res.status, await reasonOf(res), what);
}

/**
 * PATCH /sessions/{id} with a client re-offer: resolves to the answer.
 * 409 (a server offer is unanswered) comes back as ApiError with status 409.
 */
export async function patchOffer(location, sdp) {
  const what = 'Updating the call failed';
  const res = await call('PATCH', location, what, { body: sdp, type: 'application/sdp' });
  if (res.status !== 200) throw new ApiError(res.status, await reasonOf(res), what);
  return res.text();
}

/**
 * PATCH /sessions/{id} with an ICE-restart sdpfrag (RFC 9725 4.3): resolves
 * to the server's answer sdpfrag (new credentials and candidates).
 */
export async function patchIceRestart(location, frag, what) {
  const res = await call('PATCH', location, what, { body: frag, type: 'application/trickle-ice-sdpfrag',
                                                    ifMatch: '*' });
  if (res.status !== 200) throw new ApiError(res.status, await reasonOf(res), what);
  return res.text();
}
