/* pop3_msg.c: a Maildir file as POP3 sends it (lib/dataenc.h: CR LF line
 * ends, dot-stuffed, NUL dropped, cut after N body lines for TOP), and its
 * size as POP3 counts it. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/types.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include "dataenc.h"
#include "pop3.h"

/* ",W=N" in a Maildir name is the size with CR LF line ends (Dovecot's
 * convention): trust it and spare reading the file. */
static int size_from_name(char const *name, uint64_t *size)
{
  char const *w = strstr(name, ",W=");
  size_t n;
  if (!w) return 0;
  n = uint64_scan(w + 3, size);
  return n && (w[3 + n] == 0 || w[3 + n] == ',' || w[3 + n] == ':');
}

int pop3_msg_size(char const *path, char const *name, uint64_t *size)
{
  char buf[8192];
  stralloc out = STRALLOC_ZERO;
  uint64_t total = 0;
  dataenc e;
  int fd, ret = 1;
  if (size_from_name(name, size)) return 1;
  fd = open_read(path);
  if (fd < 0) return -1;
  ndelay_off(fd);
  dataenc_init(&e, UINT64_MAX);
  /* counted as sent, so that LIST agrees with RETR whatever the file holds */
  for (;;)
  {
    ssize_t r = read(fd, buf, sizeof buf);
    if (r < 0) { if (errno == EINTR) continue; ret = -1; break; }
    if (!r) break;
    out.len = 0;
    if (!dataenc_put(&e, buf, (size_t)r, &out)) { errno = ENOMEM; ret = -1; break; }
    total += out.len;
  }
  out.len = 0;
  if (ret > 0 && !dataenc_end(&e, &out)) { errno = ENOMEM; ret = -1; }
  /* the final "." CR LF and the stuffing dots are not the message's */
  if (ret > 0) *size = total + out.len - 3 - e.stuffed;
  fd_close(fd);
  stralloc_free(&out);
  return ret;
}

int pop3_msg_send(pop3_io *io, char const *path, uint64_t maxbody)
{
  char buf[8192];
  stralloc out = STRALLOC_ZERO;
  dataenc c;
  int fd = open_read(path), ret = 1;
  if (fd < 0) return -1;
  ndelay_off(fd);
  dataenc_init(&c, maxbody);
  while (!c.done)
  {
    ssize_t r = read(fd, buf, sizeof buf);
    if (r < 0) { if (errno == EINTR) continue; ret = -1; break; }
    if (!r) break;
    out.len = 0;
    if (!dataenc_put(&c, buf, (size_t)r, &out) || !pop3_put(io, out.s, out.len)) { ret = 0; break; }
  }
  fd_close(fd);
  /* A read error halfway still ends the answer properly: the client gets a
   * short message rather than a hung session. */
  out.len = 0;
  if (ret != 0 && (!dataenc_end(&c, &out) || !pop3_put(io, out.s, out.len) || !pop3_flush(io))) ret = 0;
  stralloc_free(&out);
  return ret;
}
