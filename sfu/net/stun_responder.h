/* The ICE-lite responder's STUN codec, shared by the worker's two places
 * that answer connectivity checks themselves: a parked socket (ice.c) and
 * the shared UDP port (shared_port.c). libnice's public STUN library does
 * the validation and builds the reply, as libnice answers with itself. */
#ifndef SFU_NET_STUN_RESPONDER_H
#define SFU_NET_STUN_RESPONDER_H

#include <stdbool.h>
#include <stun/stunagent.h>
#include <sys/socket.h>

/* This thread's responder agent (see stun_responder.c for why one per
 * thread serves every session). */
StunAgent *sfu_stun_responder(void);

/* Answers the validated Binding request `req` from `from` on `fd` with a
 * success response (XOR-MAPPED-ADDRESS of the sender). -1 when no reply
 * could be built; a send that fails is a lost answer (the client checks
 * again), as with any datagram. */
int sfu_stun_answer(StunMessage *req, int fd, const struct sockaddr *from, socklen_t fromlen);

#endif
