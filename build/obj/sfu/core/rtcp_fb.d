build/obj/sfu/core/rtcp_fb.o: sfu/core/rtcp_fb.c sfu/core/rtcp_fb.h \
 sfu/core/rtcp.h sfu/core/common.h
sfu/core/rtcp_fb.h:
sfu/core/rtcp.h:
sfu/core/common.h:
