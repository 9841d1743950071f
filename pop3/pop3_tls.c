/* pop3_tls.c: STLS (RFC 2595) through tern-tlsd, on lib/ucspitls. */
#include <stdlib.h>
#include <skalibs/stralloc.h>
#include <skalibs/tai.h>
#include "ucspitls.h"
#include "pop3.h"

int pop3_tls_on(void)
{
  char const *s = getenv("SSL_PROTOCOL");
  return s && *s;
}

int pop3_tls_can(void)
{
  ucspitls u;
  return ucspitls_available(&u);
}

int pop3_tls_start(unsigned int timeout)
{
  ucspitls u;
  stralloc info = STRALLOC_ZERO;
  tain deadline;
  int ok;
  if (!ucspitls_available(&u)) return 0;
  tain_now_g();
  tain_addsec_g(&deadline, timeout);
  /* On success the environment says SSL_PROTOCOL (so USER is allowed and
   * STLS is not offered again), and fds 0/1 are the TLS pipes for us and
   * for every program of the checkpassword chain. */
  ok = ucspitls_start(&u, &info, &deadline) && ucspitls_onto01(&u);
  stralloc_free(&info);
  return ok;
}
