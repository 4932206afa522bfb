build/obj/sfu/core/rtp.o: sfu/core/rtp.c sfu/core/rtp.h sfu/core/common.h
sfu/core/rtp.h:
sfu/core/common.h:
