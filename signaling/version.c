#include "signaling/version.h"

#include "version_gen.h"    /* written by the Makefile into $(BUILD)/gen */

const char *sig_version(void) { return SFU_VERSION; }
const char *sig_version_commit(void) { return SFU_COMMIT; }
const char *sig_version_line(void) { return "sfu " SFU_VERSION " (git " SFU_COMMIT ")"; }
