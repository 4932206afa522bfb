build/obj/sfu/core/rtx_cache.o: sfu/core/rtx_cache.c sfu/core/rtx_cache.h \
 sfu/core/buf.h sfu/core/common.h
sfu/core/rtx_cache.h:
sfu/core/buf.h:
sfu/core/common.h:
