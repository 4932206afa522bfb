/* Simulcast layers through the API (docs/API.md "Simulcast layers"): a
 * viewer's layer selection request (POST /sessions/{id}/layer, the WHEP
 * draft's layer extension; room sessions too), and the per-track layers and
 * per-viewer layer state GET /rooms shows. */
#ifndef SIG_LAYER_SELECT_H
#define SIG_LAYER_SELECT_H

#include "signaling/server.h"

/* The Link a session's 201 carries to its layer URL. */
#define SIG_LAYER_REL "urn:ietf:params:whep:ext:core:layer"

void sig_layer_select(sig_server *srv, sig_request *req, const char *id, const char *sub);

/* On the session's worker: the layers of participant `who`'s first video in
 * the session's room, lowest quality first, into layers[SFU_MAX_LAYERS];
 * how many (0 when it publishes none now). */
unsigned sig_layer_publisher_layers(sig_server *srv, const sig_session *s, uint32_t who,
                                   sfu_room_layer_info *layers);

/* On the session's worker: copies its tracks' layers and its video sinks'
 * state into the registry for GET /rooms. */
void sig_layer_collect(sig_server *srv, sig_session *s);

#endif
