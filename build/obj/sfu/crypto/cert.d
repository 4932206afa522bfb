build/obj/sfu/crypto/cert.o: sfu/crypto/cert.c sfu/crypto/cert.h \
 sfu/core/common.h
sfu/crypto/cert.h:
sfu/core/common.h:
