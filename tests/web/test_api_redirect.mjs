#!/usr/bin/env node
// The pages' API client (web/js/api.js) behind a cluster redirect, without a
// browser: fetch is a fake that plays what a browser's fetch does with a
// 307 (follows it with the same method and body, `redirected` and `url`
// set, Authorization dropped when the origin changes).
//
//   node tests/web/test_api_redirect.mjs     prints PASS/FAIL lines, "N passed, M failed"

globalThis.location = new URL('http://127.0.0.1:8082/');     // the page came from node B
const calls = [];
const A = 'http://127.0.0.1:8081';
globalThis.fetch = async (url, init) => {
  calls.push({ url, auth: init.headers.Authorization || '' });
  const u = new URL(url);
  let redirected = false;
  let auth = init.headers.Authorization || '';
  if (u.origin !== A) {           // node B redirects every room request to node A
    u.protocol = 'http:';
    url = A + u.pathname + u.search;
    redirected = true;
    auth = '';                    // the Fetch standard drops it across origins
  }
  const headers = new Map([['location', '/sessions/0123456789abcdef0123456789abcdef'],
                           ['link', '</sessions/0123456789abcdef0123456789abcdef/events>; rel="events"'],
                           ['x-participant-id', '0000000a']]);
  const needsToken = withToken && !auth;
  return {
    status: needsToken ? 401 : 201, redirected, url,
    headers: { get: (k) => headers.get(k.toLowerCase()) || null },
    text: async () => (needsToken ? 'missing bearer token\n' : 'v=0\r\n'),
  };
};
let withToken = false;

const api = await import('../../web/js/api.js');
let passed = 0, failed = 0;
function check(name, ok, detail = '') {
  console.log(`${ok ? 'PASS' : 'FAIL'} ${name}${detail ? ': ' + detail : ''}`);
  if (ok) passed++; else failed++;
}

const joined = await api.joinRoom('demo', 'Ann', 'v=0\r\n');
check('join: the session URL is on the node that answered', joined.location ===
      `${A}/sessions/0123456789abcdef0123456789abcdef`, joined.location);
check('join: the events URL too', joined.events ===
      `${A}/sessions/0123456789abcdef0123456789abcdef/events`, joined.events);
const pub = await api.postOffer(api.whipPath('demo', 'Ann'), 'v=0\r\n', 'Publishing failed');
check('WHIP: the session URL is on the node that answered', pub.location.startsWith(A + '/sessions/'),
      pub.location);

withToken = true;
api.setToken('t0k3n');
calls.length = 0;
const again = await api.joinRoom('demo', '', 'v=0\r\n');
check('with a token: a 401 after a cross-origin redirect is asked again at the owner',
      calls.length === 2 && calls[1].url.startsWith(A + '/rooms/demo/join') &&
      calls[1].auth === 'Bearer t0k3n', JSON.stringify(calls));
check('with a token: the events URL carries it and points at the owner',
      again.events.startsWith(A + '/sessions/') && again.events.includes('access_token=t0k3n'),
      again.events);

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
