// Simulcast from the call and broadcast pages: the camera is captured at
// 720p and offered as three encodings (RFC 8853 through sendEncodings), so
// the SFU can give each viewer the one its network and tile size can carry.
//
// Full size is listed first on purpose. When the server's answer has no
// a=simulcast (its media.simulcast is off, or it is another server), the
// browser keeps only the first encoding (RFC 8829 5.10 / WebRTC 1.0
// setRemoteDescription), so listing f first means such a server still gets
// a full picture instead of a quarter-size one. The a=simulcast order is
// only a preference; the SFU ranks layers by what it measures.

/** The camera constraints: 720p is the top layer. */
export const CAMERA_VIDEO = { width: { ideal: 1280 }, height: { ideal: 720 } };

// Bit rates after libwebrtc's own defaults for 720p/360p/180p simulcast.
const LAYERS = [
  { rid: 'f', scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
  { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
];

/** sendEncodings for a camera track (a fresh copy each time). */
export function simulcastEncodings() {
  return LAYERS.map((l) => ({ ...l }));
}

/** addTransceiver() options for a camera track with simulcast. */
export function videoTransceiverInit(direction, stream) {
  return { direction, streams: [stream], sendEncodings: simulcastEncodings() };
}

/**
 * The capture size for the one encoding left when the answer refused
 * simulcast, at most `maxWidth` wide with the track's aspect ratio (the call
 * page's single-stream picture has been 640 wide); null when the track is
 * already that small.
 */
export function singleLayerSize(width, height, maxWidth) {
  if (!(width > 0) || !(height > 0) || !(maxWidth > 0) || width <= maxWidth) return null;
  return { width: maxWidth, height: Math.round((maxWidth * height) / width) };
}

/**
 * After an answer is applied: how many encodings the sender kept (3 with
 * simulcast). With one left and `maxWidth` given, lifts the per-layer
 * bit-rate cap and captures at most `maxWidth` wide, as a single stream
 * had it. The capture is narrowed (applyConstraints) rather than the
 * encoding scaled, which works the same in every browser. (Firefox 153 with
 * its fake camera reported 1280x720 sent either way; Chromium sends 640x360.)
 */
export async function afterAnswer(sender, maxWidth) {
  const params = sender?.getParameters?.();
  const encodings = params?.encodings || [];
  if (encodings.length !== 1 || !maxWidth || !sender.track) return encodings.length;
  if (encodings[0].maxBitrate !== undefined) {
    delete encodings[0].maxBitrate;
    await sender.setParameters(params).catch(() => {});   // best effort: the picture still flows
  }
  const t = sender.track;
  const { width, height } = t.getSettings?.() || {};
  const size = singleLayerSize(width, height, maxWidth);
  if (size) {
    await t.applyConstraints({ ...(t.getConstraints?.() || {}), width: { ideal: size.width },
                               height: { ideal: size.height } }).catch(() => {});
  }
  return 1;
}

// The heights of the layers the pages publish (720p / 2 / 4), lowest first,
// as the SFU numbers them (0 lowest).
const LAYER_HEIGHTS = [180, 360, 720];

/**
 * The layer cap for a tile `cssHeight` CSS pixels high on a screen of
 * `dpr` device pixels per CSS pixel: the lowest layer at least as tall as
 * the tile shows, or -1 (no cap: the SFU's automatic choice) when only the
 * top one is. POST /sessions/{id}/layer {"mediaId", "maxLayer"} takes it.
 */
export function layerForTile(cssHeight, dpr = 1) {
  const px = cssHeight * (dpr > 0 ? dpr : 1);
  if (!(px > 0)) return -1;         // not laid out: leave it to the server
  const i = LAYER_HEIGHTS.findIndex((h) => h >= px);
  return i < 0 || i === LAYER_HEIGHTS.length - 1 ? -1 : i;
}
