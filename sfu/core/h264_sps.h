/* The picture size an H.264 sequence parameter set declares (H.264
 * 7.3.2.1.1, 7.4.2.1.1): what VP8 keyframes say in their header, H.264
 * says only here, so simulcast layers can be ranked and capped by size. */
#ifndef SFU_CORE_H264_SPS_H
#define SFU_CORE_H264_SPS_H

#include "sfu/core/common.h"

/* `nal` is one SPS NAL unit, its header byte first, as carried in RTP
 * (emulation-prevention bytes still in). On success sets the cropped
 * frame size in pixels. -SFU_EMALFORMED when it is not an SPS, ends early,
 * or declares values out of the standard's ranges or a size of 0 or over
 * 65535; -SFU_EUNSUPPORTED for an SVC/MVC subset SPS (type 15). */
int sfu_h264_sps_size(const uint8_t *nal, size_t len, uint16_t *width, uint16_t *height);

/* The first whole SPS NAL unit of an RTP payload (a single NAL unit packet
 * or an STAP-A); fragments of an FU-A are not looked into. -SFU_ENOTFOUND when
 * there is none. */
int sfu_h264_find_sps(const uint8_t *payload, size_t len, const uint8_t **nal, size_t *nal_len);

#endif
