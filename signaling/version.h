/* The program's version and the commit it was built from. Both come from the
 * Makefile (SFU_VERSION; the short git hash, or "unknown" when built outside
 * a git checkout), so a build from the same tree says the same thing. */
#ifndef SIG_VERSION_H
#define SIG_VERSION_H

/* "0.2.0" */
const char *sig_version(void);
/* A short git hash such as "6b512ee", or "unknown". */
const char *sig_version_commit(void);
/* "sfu 0.2.0 (git 6b512ee)": what `sfu --version` prints. */
const char *sig_version_line(void);

#endif
