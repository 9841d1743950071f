/* pop3_tls.c: STLS (RFC 2595) through tern-tlsd's UCSPI-TLS control fd.
 * Stays until lib/ucspitls offers the same; see docs/INTERNALS.md. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/types.h>
#include <skalibs/iopause.h>
#include <skalibs/tai.h>
#include <skalibs/djbunix.h>
#include "pop3.h"

static int env_fd(char const *name)
{
  char const *s = getenv(name);
  unsigned int u;
  size_t n;
  if (!s) return -1;
  n = uint_scan(s, &u);
  return n && !s[n] && u < 1024 ? (int)u : -1;
}

int pop3_tls_on(void)
{
  char const *s = getenv("SSL_PROTOCOL");
  return s && *s;
}

int pop3_tls_can(void)
{
  return !pop3_tls_on() && env_fd("SSLCTLFD") >= 0 && env_fd("SSLREADFD") >= 0 && env_fd("SSLWRITEFD") >= 0;
}

/* Reads tern-tlsd's "NAME=value\0...\0" answer and exports its SSL_ names
 * for the programs after us. 1 ok, 0 the handshake failed. */
static int read_answer(int ctl, tain const *deadline)
{
  char buf[1024];
  size_t len = 0, i;
  while (len < 2 || buf[len - 1] || buf[len - 2])
  {
    ssize_t r;
    if (len == sizeof buf || !pop3_wait(ctl, IOPAUSE_READ, deadline)) return 0;
    r = read(ctl, buf + len, sizeof buf - len);
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (r <= 0) return 0;
    len += r;
    if (len == 1 && !buf[0]) break;   /* an empty list */
  }
  for (i = 0; i < len && buf[i]; i += strlen(buf + i) + 1)
  {
    char *eq = strchr(buf + i, '=');
    if (eq && !strncmp(buf + i, "SSL_", 4))
    {
      *eq = 0;
      setenv(buf + i, eq + 1, 1);
      *eq = '=';
    }
  }
  if (!pop3_tls_on()) setenv("SSL_PROTOCOL", "TLS", 1);
  return 1;
}

int pop3_tls_start(unsigned int timeout)
{
  int ctl = env_fd("SSLCTLFD"), rfd = env_fd("SSLREADFD"), wfd = env_fd("SSLWRITEFD");
  tain deadline;
  if (ctl < 0 || rfd < 0 || wfd < 0) return 0;
  tain_now_g();
  tain_addsec_g(&deadline, timeout);
  if (write(ctl, "Y", 1) != 1 || !read_answer(ctl, &deadline)) return 0;
  /* From now on fds 0 and 1 are the TLS pipes, for us and for the programs
   * we run: the mailbox part needs to know nothing about TLS. */
  if (fd_move(0, rfd) < 0 || fd_move(1, wfd) < 0) return 0;
  unsetenv("SSLREADFD");
  unsetenv("SSLWRITEFD");
  return 1;
}
