build/obj/sfu/core/seq.o: sfu/core/seq.c sfu/core/seq.h sfu/core/common.h
sfu/core/seq.h:
sfu/core/common.h:
