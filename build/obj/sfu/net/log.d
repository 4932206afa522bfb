build/obj/sfu/net/log.o: sfu/net/log.c sfu/net/log.h sfu/core/common.h
sfu/net/log.h:
sfu/core/common.h:
