// Camera and microphone for the call page. Unlike publishing, a call works
// without them (you still see and hear the others), so nothing here throws:
// it returns whatever could be opened and why the rest could not.

import { CAMERA_VIDEO } from './simulcast.js';

// A call sends its camera at 720p as three simulcast layers (simulcast.js),
// so the server can give a small tile a small layer; without simulcast the
// one layer is captured 640 wide, as before.
const VIDEO = { ...CAMERA_VIDEO, frameRate: { ideal: 24, max: 30 } };
const AUDIO = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };

const WORDS = {
  NotAllowedError: 'the browser was not allowed to use it',
  NotFoundError: 'none was found',
  NotReadableError: 'it is in use by another application',
  OverconstrainedError: 'it does not support the requested settings',
  SecurityError: 'the page is not secure (HTTPS or localhost needed)',
};

function describe(what, err) {
  return `${what}: ${WORDS[err?.name] || err?.message || 'unavailable'}`;
}

/** One device kind: { track } or { problem }. */
export async function openDevice(kind) {
  if (!navigator.mediaDevices?.getUserMedia) {
    return { problem: describe(kind === 'audio' ? 'Microphone' : 'Camera', { name: 'SecurityError' }) };
  }
  try {
    const s = await navigator.mediaDevices.getUserMedia(kind === 'audio' ? { audio: AUDIO } : { video: VIDEO });
    return { track: s.getTracks()[0] };
  } catch (e) {
    return { problem: describe(kind === 'audio' ? 'Microphone' : 'Camera', e) };
  }
}

/**
 * Camera and microphone together (one permission prompt), else each alone.
 * Resolves to { stream, problems: [text] }; the stream may have no tracks.
 */
export async function openCameraAndMic() {
  if (navigator.mediaDevices?.getUserMedia) {
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: AUDIO, video: VIDEO });
      return { stream, problems: [] };
    } catch (e) {
      // A refusal covers both; asking again one by one would prompt twice.
      if (e.name === 'NotAllowedError') {
        return { stream: new MediaStream(), problems: [describe('Camera and microphone', e)] };
      }
    }
  }
  const stream = new MediaStream();
  const problems = [];
  for (const kind of ['audio', 'video']) {
    const r = await openDevice(kind);
    if (r.track) stream.addTrack(r.track); else problems.push(r.problem);
  }
  return { stream, problems };
}
