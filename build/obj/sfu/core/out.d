build/obj/sfu/core/out.o: sfu/core/out.c sfu/core/out.h sfu/core/buf.h \
 sfu/core/common.h
sfu/core/out.h:
sfu/core/buf.h:
sfu/core/common.h:
