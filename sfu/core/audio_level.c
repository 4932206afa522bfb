/* RFC 6464 3: |V| level (7 bits)|. */
#include "sfu/core/audio_level.h"

int sfu_audio_level_parse(const uint8_t *data, size_t len, sfu_audio_level *out)
{
    if (!data || len != 1)
        return -SFU_EMALFORMED;
    out->voice = data[0] & 0x80;
    out->level = data[0] & 0x7f;
    return 0;
}

int sfu_audio_level_write(uint8_t *dst, size_t cap, const sfu_audio_level *in)
{
    if (in->level > SFU_AUDIO_LEVEL_SILENT)
        return -SFU_EINVAL;
    if (cap < 1)
        return -SFU_ENOSPC;
    dst[0] = (uint8_t)((in->voice ? 0x80 : 0) | in->level);
    return 1;
}
