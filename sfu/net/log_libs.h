/* Routes the diagnostics of the libraries the shell links into our log
 * (log.h): GLib's and libnice's (which logs through GLib; its debug output
 * stays off unless NICE_DEBUG asks for it) and libsrtp's. libmicrohttpd's
 * go through its daemon's own logger option (signaling/http.c). Each line
 * is redacted, rate-limited and levelled like ours (sfu_log_foreign). */
#ifndef SFU_NET_LOG_LIBS_H
#define SFU_NET_LOG_LIBS_H

#include "sfu/net/log.h"

/* Installs the handlers, once per process (later calls do nothing). Call it
 * before anything else uses GLib's logging: GLib accepts one writer only. */
void sfu_log_capture_libraries(void);

/* The mapping, for tests: GLib's level flags and libsrtp's levels to ours. */
sfu_log_level sfu_log_glib_level(int glib_level_flags);
sfu_log_level sfu_log_srtp_level(int srtp_level);

#endif
