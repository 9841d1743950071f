/* remote_tls.c: BearSSL client engine for STARTTLS, with an opportunistic mode. */
#include <errno.h>
#include <string.h>
#include <skalibs/alloc.h>
#include <skalibs/uint16.h>
#include "remote_conn.h"
#include "remote_tls.h"

/* The opportunistic "verifier": decodes the end-entity certificate to get
 * the server's key and accepts whatever chain it comes with. */
typedef struct nocheck_s nocheck;
struct nocheck_s
{
  br_x509_class const *vtable;
  br_x509_decoder_context dc;
  unsigned int depth;
  unsigned int err;
};

static void nc_start_chain(br_x509_class const **ctx, char const *server_name)
{
  nocheck *c = (nocheck *)ctx;
  (void)server_name;
  c->depth = 0;
  c->err = 0;
}

static void nc_start_cert(br_x509_class const **ctx, uint32_t length)
{
  nocheck *c = (nocheck *)ctx;
  (void)length;
  if (!c->depth) br_x509_decoder_init(&c->dc, 0, 0);
}

static void nc_append(br_x509_class const **ctx, unsigned char const *buf, size_t len)
{
  nocheck *c = (nocheck *)ctx;
  if (!c->depth) br_x509_decoder_push(&c->dc, buf, len);
}

static void nc_end_cert(br_x509_class const **ctx)
{
  nocheck *c = (nocheck *)ctx;
  if (!c->depth) c->err = (unsigned int)br_x509_decoder_last_error(&c->dc);
  c->depth++;
}

static unsigned nc_end_chain(br_x509_class const **ctx)
{
  nocheck *c = (nocheck *)ctx;
  if (!c->depth) return BR_ERR_X509_EMPTY_CHAIN;
  return c->err;
}

static br_x509_pkey const *nc_get_pkey(br_x509_class const *const *ctx, unsigned *usages)
{
  nocheck *c = (nocheck *)ctx;
  if (usages) *usages = BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN;
  return br_x509_decoder_get_pkey(&c->dc);
}

static br_x509_class const nocheck_vtable =
{
  sizeof(nocheck), nc_start_chain, nc_start_cert, nc_append, nc_end_cert,
  nc_end_chain, nc_get_pkey
};

struct rtls_s
{
  br_ssl_client_context sc;
  br_x509_minimal_context xc;
  nocheck nc;
  br_sslio_context ioc;
  int fd;
  unsigned int timeout;
  int ioerr;      /* errno of the last failed read or write on fd */
  char desc[64];
  unsigned char iobuf[BR_SSL_BUFSIZE_BIDI];
};

static int low_read(void *ctx, unsigned char *buf, size_t len)
{
  rtls *t = ctx;
  ssize_t r = conn_fdread(t->fd, (char *)buf, len, t->timeout);
  if (r <= 0) { t->ioerr = r ? errno : EPIPE; return -1; }
  return (int)r;
}

static int low_write(void *ctx, unsigned char const *buf, size_t len)
{
  rtls *t = ctx;
  ssize_t r = conn_fdwrite(t->fd, (char const *)buf, len, t->timeout);
  if (r <= 0) { t->ioerr = r ? errno : EPIPE; return -1; }
  return (int)r;
}

rtls *rtls_start(int fd, unsigned int timeout, char const *servername, anchors const *a, char const **err)
{
  rtls *t = alloc(sizeof *t);
  if (!t) { *err = "out of memory"; return 0; }
  memset(t, 0, sizeof *t);
  t->fd = fd;
  t->timeout = timeout;
  if (a)
    br_ssl_client_init_full(&t->sc, &t->xc, genalloc_s(br_x509_trust_anchor, &a->ta),
                            genalloc_len(br_x509_trust_anchor, &a->ta));
  else
  {
    br_ssl_client_init_full(&t->sc, &t->xc, 0, 0);
    t->nc.vtable = &nocheck_vtable;
    br_ssl_engine_set_x509(&t->sc.eng, &t->nc.vtable);
  }
  br_ssl_engine_set_buffer(&t->sc.eng, t->iobuf, sizeof t->iobuf, 1);
  if (!br_ssl_client_reset(&t->sc, servername, 0))
  {
    *err = rtls_error(t);
    alloc_free(t);
    return 0;
  }
  br_sslio_init(&t->ioc, &t->sc.eng, low_read, t, low_write, t);
  /* Flushing with nothing to send runs the handshake to its end. */
  if (br_sslio_flush(&t->ioc) < 0)
  {
    *err = rtls_error(t);
    alloc_free(t);
    return 0;
  }
  return t;
}

ssize_t rtls_read(rtls *t, char *s, size_t n)
{
  int r = br_sslio_read(&t->ioc, s, n);
  if (r > 0) return r;
  if (br_ssl_engine_current_state(&t->sc.eng) == BR_SSL_CLOSED
   && br_ssl_engine_last_error(&t->sc.eng) == BR_ERR_OK) return 0;
  return -1;
}

int rtls_write(rtls *t, char const *s, size_t n)
{
  return br_sslio_write_all(&t->ioc, s, n) == 0 && br_sslio_flush(&t->ioc) == 0;
}

char const *rtls_error(rtls *t)
{
  int e = br_ssl_engine_last_error(&t->sc.eng);
  switch (e)
  {
    case BR_ERR_OK:
    case BR_ERR_IO:
      if (t->ioerr == ETIMEDOUT) return "TLS: timed out";
      return t->ioerr ? "TLS: connection lost" : "TLS: connection closed";
    case BR_ERR_X509_NOT_TRUSTED: return "TLS: certificate not trusted";
    case BR_ERR_X509_BAD_SERVER_NAME: return "TLS: certificate does not match the host name";
    case BR_ERR_X509_EXPIRED: return "TLS: certificate expired or not yet valid";
    case BR_ERR_BAD_VERSION: return "TLS: no common protocol version";
    case BR_ERR_BAD_CIPHER_SUITE: return "TLS: no common cipher suite";
    default: break;
  }
  if (e >= BR_ERR_RECV_FATAL_ALERT && e < BR_ERR_SEND_FATAL_ALERT) return "TLS: the server sent a fatal alert";
  if (e >= BR_ERR_X509_OK && e < BR_ERR_X509_OK + 100) return "TLS: bad certificate";
  return "TLS: handshake failed";
}

char const *rtls_describe(rtls *t)
{
  unsigned v = br_ssl_engine_get_version(&t->sc.eng);
  size_t n;
  memcpy(t->desc, v == BR_TLS12 ? "TLSv1.2" : v == BR_TLS11 ? "TLSv1.1" : "TLSv1.0", 7);
  n = 7;
  memcpy(t->desc + n, " cipher 0x", 10); n += 10;
  n += uint16_xfmt(t->desc + n, t->sc.eng.session.cipher_suite);
  t->desc[n] = 0;
  return t->desc;
}

void rtls_free(rtls *t)
{
  alloc_free(t);
}
