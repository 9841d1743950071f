/* pop3_msg.c: a Maildir file as POP3 sends it: CR LF line ends, dot-stuffed,
 * cut after N body lines for TOP, and its size as POP3 counts it. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/types.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include "pop3.h"

void pop3_conv_init(pop3_conv *c, uint64_t maxbody)
{
  c->bol = 1; c->cr = 0; c->blank = 0; c->body = 0; c->bodylines = 0;
  c->maxbody = maxbody; c->done = 0;
}

int pop3_conv_chunk(pop3_conv *c, stralloc *out, char const *s, size_t n)
{
  size_t i;
  if (!stralloc_readyplus(out, 2 * n + 4)) return 0;
  for (i = 0; i < n; i++)
  {
    char ch = s[i];
    if (c->bol)
    {
      if (c->body && c->bodylines++ >= c->maxbody) { c->done = 1; break; }
      c->blank = 1;
      c->bol = 0;
      if (ch == '.') out->s[out->len++] = '.';
    }
    if (ch == '\n')
    {
      if (!c->cr) out->s[out->len++] = '\r';
      /* The first empty line ends the header; TOP counts lines after it. */
      if (c->blank) c->body = 1;
      c->bol = 1;
    }
    else if (ch != '\r') c->blank = 0;
    out->s[out->len++] = ch;
    c->cr = ch == '\r';
  }
  return 1;
}

int pop3_conv_end(pop3_conv *c, stralloc *out)
{
  if (!c->bol && !stralloc_catb(out, c->cr ? "\n" : "\r\n", c->cr ? 1 : 2)) return 0;
  return stralloc_catb(out, ".\r\n", 3);
}

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
  uint64_t total = 0;
  int fd, cr = 0, bol = 1;
  if (size_from_name(name, size)) return 1;
  fd = open_read(path);
  if (fd < 0) return -1;
  ndelay_off(fd);
  for (;;)
  {
    ssize_t r = read(fd, buf, sizeof buf), i;
    if (r < 0) { if (errno == EINTR) continue; fd_close(fd); return -1; }
    if (!r) break;
    for (i = 0; i < r; i++)
    {
      if (buf[i] == '\n' && !cr) total++;
      cr = buf[i] == '\r';
      bol = buf[i] == '\n';
    }
    total += r;
  }
  fd_close(fd);
  if (!bol) total += cr ? 1 : 2;
  *size = total;
  return 1;
}

int pop3_msg_send(pop3_io *io, char const *path, uint64_t maxbody)
{
  char buf[8192];
  stralloc out = STRALLOC_ZERO;
  pop3_conv c;
  int fd = open_read(path), ret = 1;
  if (fd < 0) return -1;
  ndelay_off(fd);
  pop3_conv_init(&c, maxbody);
  while (!c.done)
  {
    ssize_t r = read(fd, buf, sizeof buf);
    if (r < 0) { if (errno == EINTR) continue; ret = -1; break; }
    if (!r) break;
    out.len = 0;
    if (!pop3_conv_chunk(&c, &out, buf, r) || !pop3_put(io, out.s, out.len)) { ret = 0; break; }
  }
  fd_close(fd);
  /* A read error halfway still ends the answer properly: the client gets a
   * short message rather than a hung session. */
  out.len = 0;
  if (ret != 0 && (!pop3_conv_end(&c, &out) || !pop3_put(io, out.s, out.len) || !pop3_flush(io))) ret = 0;
  stralloc_free(&out);
  return ret;
}
