/* The client-to-mixer audio level header extension, RFC 6464 3:
 * urn:ietf:params:rtp-hdrext:ssrc-audio-level. One byte: V, then the
 * level in -dBov (0 loudest, 127 silence). */
#ifndef SFU_CORE_AUDIO_LEVEL_H
#define SFU_CORE_AUDIO_LEVEL_H

#include "sfu/core/common.h"

#define SFU_AUDIO_LEVEL_SILENT 127

typedef struct sfu_audio_level {
    bool voice;                 /* V: the sender's voice activity detector fired */
    uint8_t level;              /* 0..127, -dBov */
} sfu_audio_level;

/* Parses the extension's data (as sfu_rtp_ext_find returns it): exactly one
 * byte, else -SFU_EMALFORMED. */
int sfu_audio_level_parse(const uint8_t *data, size_t len, sfu_audio_level *out);

/* Writes the one data byte; -SFU_ENOSPC if cap is 0, -SFU_EINVAL if the
 * level is above 127. Returns 1. */
int sfu_audio_level_write(uint8_t *dst, size_t cap, const sfu_audio_level *in);

#endif
