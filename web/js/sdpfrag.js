// The two SDP fragments of a WHIP/WHEP ICE restart (RFC 9725 4.3, RFC 8840):
// the offer's new credentials go out in an application/trickle-ice-sdpfrag
// PATCH, and the answer's credentials and candidates replace the server's
// old ones in the remote description. Pure string work, no browser API.

const line = (text, re) => (text.match(re) || [''])[0];

/**
 * The PATCH body for an ICE restart from our new local offer: ice-ufrag,
 * ice-pwd, the first m= line and its mid. No candidates: the SFU is
 * ICE-lite and learns our address from our own checks.
 */
export function restartFrag(offerSdp) {
  const sdp = offerSdp.replace(/\r?\n/g, '\r\n');
  const ufrag = line(sdp, /^a=ice-ufrag:.*$/m);
  const pwd = line(sdp, /^a=ice-pwd:.*$/m);
  const at = sdp.indexOf('\r\nm=');
  if (!ufrag || !pwd || at < 0) throw new Error('the offer has no ICE credentials or no m= line');
  const m = sdp.slice(at + 2);
  return [ufrag, pwd, m.split('\r\n')[0], line(m, /^a=mid:.*$/m)].filter(Boolean).join('\r\n') + '\r\n';
}

/**
 * The remote description after the server's restart answer `frag`: every
 * ice-ufrag and ice-pwd replaced by the answer's, the old candidates
 * dropped and the answer's put after each ice-pwd line.
 */
export function applyRestartAnswer(remoteSdp, frag) {
  const ufrag = line(frag, /^a=ice-ufrag:.*$/m);
  const pwd = line(frag, /^a=ice-pwd:.*$/m);
  if (!ufrag || !pwd) throw new Error('the restart answer has no ICE credentials');
  const cands = (frag.match(/^a=candidate:.*$/gm) || []).map((c) => c.trim() + '\r\n').join('');
  return remoteSdp.replace(/\r?\n/g, '\r\n')
    .replace(/^a=candidate:.*\r\n/gm, '')
    .replace(/^a=end-of-candidates\r\n/gm, '')
    .replace(/^a=ice-ufrag:.*$/gm, ufrag.trim())
    .replace(/^a=ice-pwd:.*\r\n/gm, pwd.trim() + '\r\n' + cands
             + (cands ? 'a=end-of-candidates\r\n' : ''));
}
