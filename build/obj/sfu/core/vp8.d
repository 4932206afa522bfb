build/obj/sfu/core/vp8.o: sfu/core/vp8.c sfu/core/vp8.h sfu/core/common.h
sfu/core/vp8.h:
sfu/core/common.h:
