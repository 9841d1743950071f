/* tlsd_io.c: the non-blocking BearSSL engine loop of tern-tlsd (handshake and relay). */
#include <errno.h>
#include <unistd.h>
#include <bearssl.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/iopause.h>
#include <skalibs/tai.h>
#include "tlsd_io.h"

enum { X_NETW, X_NETR, X_APPR, X_APPW };

typedef struct loop_s loop;
struct loop_s
{
  br_ssl_engine_context *eng;
  tlsd_fds *f;
  int closing;          /* we called br_ssl_engine_close */
  tain deadline;
  tain const *closetime; /* relative: how long the close may take */
};

static void app_close(int *fd)
{
  if (*fd >= 0) { close(*fd); *fd = -1; }
}

static void start_close(loop *l)
{
  if (l->closing) return;
  l->closing = 1;
  br_ssl_engine_close(l->eng);
  app_close(&l->f->appr);
  tain_add_g(&l->deadline, l->closetime);
}

/* Moves bytes for one ready descriptor. 1 go on, 0 end of the session
 * (errno tells why), -1 system error. */
static int move(loop *l, int which)
{
  br_ssl_engine_context *eng = l->eng;
  unsigned char *buf;
  size_t len;
  ssize_t r;
  switch (which)
  {
    case X_NETW:
      buf = br_ssl_engine_sendrec_buf(eng, &len);
      r = fd_write(l->f->netw, (char *)buf, len);
      if (r < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? 1 : -1;
      br_ssl_engine_sendrec_ack(eng, r);
      return 1;
    case X_NETR:
      buf = br_ssl_engine_recvrec_buf(eng, &len);
      r = fd_read(l->f->netr, (char *)buf, len);
      if (r < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? 1 : -1;
      if (!r) { errno = EPIPE; return 0; }
      br_ssl_engine_recvrec_ack(eng, r);
      return 1;
    case X_APPR:
      buf = br_ssl_engine_sendapp_buf(eng, &len);
      r = fd_read(l->f->appr, (char *)buf, len);
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 1;
      if (r <= 0) { start_close(l); return 1; }
      br_ssl_engine_sendapp_ack(eng, r);
      br_ssl_engine_flush(eng, 0);
      return 1;
    default:
      buf = br_ssl_engine_recvapp_buf(eng, &len);
      r = fd_write(l->f->appw, (char *)buf, len);
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 1;
      /* The application stopped reading: nothing more to say to the client. */
      if (r < 0) { app_close(&l->f->appw); start_close(l); return 1; }
      br_ssl_engine_recvapp_ack(eng, r);
      return 1;
  }
}

/* Fills x with what the engine state wants; idx maps x entries to X_*.
 * Data for an application that is gone is dropped here. */
static unsigned int want(loop *l, unsigned int st, int handshake, iopause_fd *x, int *idx)
{
  unsigned int n = 0;
  if (st & BR_SSL_SENDREC) { x[n].fd = l->f->netw; x[n].events = IOPAUSE_WRITE; idx[n++] = X_NETW; }
  if (st & BR_SSL_RECVREC) { x[n].fd = l->f->netr; x[n].events = IOPAUSE_READ; idx[n++] = X_NETR; }
  if (handshake) return n;
  if ((st & BR_SSL_SENDAPP) && l->f->appr >= 0 && !l->closing)
  { x[n].fd = l->f->appr; x[n].events = IOPAUSE_READ; idx[n++] = X_APPR; }
  if (st & BR_SSL_RECVAPP)
  {
    if (l->f->appw >= 0) { x[n].fd = l->f->appw; x[n].events = IOPAUSE_WRITE; idx[n++] = X_APPW; }
    else
    {
      size_t len;
      br_ssl_engine_recvapp_buf(l->eng, &len);
      br_ssl_engine_recvapp_ack(l->eng, len);
    }
  }
  return n;
}

static int run(loop *l, int handshake)
{
  for (;;)
  {
    iopause_fd x[4];
    int idx[4];
    unsigned int st = br_ssl_engine_current_state(l->eng), n, i;
    int r;
    if (st & BR_SSL_CLOSED)
    {
      int e = br_ssl_engine_last_error(l->eng);
      /* A client that closes after our close_notify is a clean end. */
      return l->closing && e == BR_ERR_IO ? 0 : e;
    }
    if (handshake && (st & (BR_SSL_SENDAPP | BR_SSL_RECVAPP))) return 0;
    if (l->closing && !(st & BR_SSL_SENDREC)) return 0;
    n = want(l, st, handshake, x, idx);
    if (!n)
    {
      if (st & BR_SSL_RECVAPP) continue;  /* data for a gone application was dropped */
      errno = EPROTO;
      return -1;
    }
    r = iopause_g(x, n, &l->deadline);
    if (r < 0) return -1;
    if (!r) { errno = ETIMEDOUT; return -1; }
    for (i = 0; i < n; i++)
    {
      if (!x[i].revents) continue;
      r = move(l, idx[i]);
      if (r <= 0) return -1;
      break;  /* the engine state changed: compute the wanted set again */
    }
  }
}

int tlsd_handshake(br_ssl_engine_context *eng, tlsd_fds *f, tain const *deadline)
{
  loop l = { .eng = eng, .f = f, .closing = 0, .deadline = *deadline, .closetime = 0 };
  return run(&l, 1);
}

int tlsd_relay(br_ssl_engine_context *eng, tlsd_fds *f, tain const *closetime)
{
  loop l = { .eng = eng, .f = f, .closing = 0, .deadline = TAIN_INFINITE, .closetime = closetime };
  int r = run(&l, 0);
  app_close(&f->appr);
  app_close(&f->appw);
  return r;
}
