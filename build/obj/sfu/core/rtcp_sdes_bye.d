build/obj/sfu/core/rtcp_sdes_bye.o: sfu/core/rtcp_sdes_bye.c \
 sfu/core/rtcp_sdes_bye.h sfu/core/rtcp.h sfu/core/common.h
sfu/core/rtcp_sdes_bye.h:
sfu/core/rtcp.h:
sfu/core/common.h:
