/* dkim_seal.h: tern-dkimsign's side of tern-dkimseal (its man page has the
 * protocol): start it for one rule's keys, learn their algorithms, hand it
 * the header hashes, get the signatures. Every read is bounded by SEAL_WAIT
 * seconds. A failure has been logged by tern-dkimseal or is in errno. */
#ifndef TERN_DKIM_SEAL_H
#define TERN_DKIM_SEAL_H

#include <stddef.h>
#include <sys/types.h>
#include "dkim_conf.h"
#include "dkim_key.h"

#define SEAL_WAIT 60

typedef struct dkim_seal_s dkim_seal;
struct dkim_seal_s
{
  pid_t pid;
  int rfd;                          /* its answers */
  int wfd;                          /* our hashes */
  unsigned int n;                   /* keys */
  char alg[DKIM_MAXSEL][16];        /* "rsa-sha256" or "ed25519-sha256" */
  size_t siglen[DKIM_MAXSEL];
};

/* Runs prog DOMAIN SELECTOR... for r and reads its "ALG LEN" lines.
 * 1 ok; 0 it failed (it said why on stderr; errno ECHILD when it exited,
 * ETIMEDOUT, EPROTO for an answer we do not understand). */
extern int dkim_seal_start(dkim_seal *s, char const *prog, dkim_rule const *r);

/* Writes n hashes (32 bytes each, in rule order), reads the n signatures
 * into sig[i] (siglen[i] bytes each), reaps it. 1 ok, 0 failed. */
extern int dkim_seal_finish(dkim_seal *s, unsigned char const *hashes, unsigned char (*sig)[DKIM_SIG_MAX]);

/* Gives up: closes our ends, reaps it. */
extern void dkim_seal_abort(dkim_seal *s);

#endif
