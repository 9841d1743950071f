/* tcpserver_ident.c: RFC 1413 ident lookups for tern-tcpserver -r (TCPREMOTEINFO). */
#include <string.h>
#include <unistd.h>
#include <skalibs/buffer.h>
#include <skalibs/bytestr.h>
#include <skalibs/ip46.h>
#include <skalibs/socket.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>
#include <skalibs/unix-timed.h>
#include "tcpserver.h"

/* Asks the client's identd; the connection comes from our local address so
 * the answer is about the right connection. */
static int ask(ip46 const *local, uint16_t lport, ip46 const *remote, uint16_t rport, tain const *deadline, char *line, size_t max)
{
  char q[UINT16_FMT * 2 + 8];
  char buf[512];
  buffer b;
  size_t n = 0, w = 0;
  int r = 0, fd = ip46_is6(remote) ? socket_tcp6_nbcoe() : socket_tcp4_nbcoe();
  if (fd < 0) return 0;
  if ((ip46_is6(remote) ? socket_bind6(fd, local->ip, 0) : socket_bind4(fd, local->ip, 0)) < 0
   || !(ip46_is6(remote) ? socket_deadlineconnstamp6_g(fd, remote->ip, 113, deadline)
                         : socket_deadlineconnstamp4_g(fd, remote->ip, 113, deadline)))
    goto end;
  n = uint16_fmt(q, rport);
  memcpy(q + n, " , ", 3); n += 3;
  n += uint16_fmt(q + n, lport);
  memcpy(q + n, "\r\n", 2); n += 2;
  buffer_init(&b, &buffer_write, fd, buf, sizeof buf);
  if (buffer_timed_put_g(&b, q, n, deadline) < n || !buffer_timed_flush_g(&b, deadline)) goto end;
  buffer_init(&b, &buffer_read, fd, buf, sizeof buf);
  r = timed_getlnmax_g(&b, line, max - 1, &w, '\n', deadline) > 0;
  line[w] = 0;
end:
  close(fd);
  return r;
}

/* "rport , lport : USERID : OS [, charset] : name" -> name, kept only when
 * it is short, printable ASCII without ':' (it goes into the environment
 * and the log). */
static int userid(char const *line, char *out, size_t outmax)
{
  char const *p = strstr(line, ":");
  size_t i, n;
  if (!p) return 0;
  p++;
  while (*p == ' ' || *p == '\t') p++;
  if (strncmp(p, "USERID", 6)) return 0;
  p = strchr(p + 6, ':');
  if (!p || !(p = strchr(p + 1, ':'))) return 0;
  p++;
  while (*p == ' ' || *p == '\t') p++;
  n = strlen(p);
  while (n && (p[n - 1] == '\n' || p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t')) n--;
  if (!n || n >= outmax) return 0;
  for (i = 0; i < n; i++) if (p[i] < 33 || p[i] > 126 || p[i] == ':') return 0;
  memcpy(out, p, n);
  out[n] = 0;
  return 1;
}

int tcpserver_ident(ip46 const *local, uint16_t lport, ip46 const *remote, uint16_t rport, unsigned int timeout, char *out, size_t outmax)
{
  char line[512];
  tain deadline;
  out[0] = 0;
  tain_now_set_stopwatch_g();
  tain_addsec_g(&deadline, timeout);
  return ask(local, lport, remote, rport, &deadline, line, sizeof line) && userid(line, out, outmax);
}
