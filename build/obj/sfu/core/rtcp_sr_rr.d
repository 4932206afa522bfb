build/obj/sfu/core/rtcp_sr_rr.o: sfu/core/rtcp_sr_rr.c \
 sfu/core/rtcp_sr_rr.h sfu/core/rtcp.h sfu/core/common.h
sfu/core/rtcp_sr_rr.h:
sfu/core/rtcp.h:
sfu/core/common.h:
