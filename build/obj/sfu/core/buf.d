build/obj/sfu/core/buf.o: sfu/core/buf.c sfu/core/buf.h sfu/core/common.h
sfu/core/buf.h:
sfu/core/common.h:
