build/obj/sfu/core/rtcp.o: sfu/core/rtcp.c sfu/core/rtcp.h \
 sfu/core/common.h
sfu/core/rtcp.h:
sfu/core/common.h:
