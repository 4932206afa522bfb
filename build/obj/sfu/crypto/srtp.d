build/obj/sfu/crypto/srtp.o: sfu/crypto/srtp.c sfu/crypto/srtp.h \
 sfu/core/common.h
sfu/crypto/srtp.h:
sfu/core/common.h:
