build/obj/sfu/core/common.o: sfu/core/common.c sfu/core/common.h
sfu/core/common.h:
