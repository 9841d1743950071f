/* remote_tls.c: BearSSL client engine for STARTTLS, with an opportunistic mode. */
#include <errno.h>
#include <string.h>
#include <skalibs/alloc.h>
#include "tls.h"
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

/* The observing "verifier" (MTA-STS testing): the chain goes through
 * br_x509_minimal for a verdict that is only recorded, and through nocheck
 * for the key, so the session goes on whatever the verdict. */
typedef struct observe_s observe;
struct observe_s
{
  br_x509_class const *vtable;
  br_x509_minimal_context *xm;
  nocheck *nc;
  unsigned int verdict;   /* br_x509_minimal's end_chain result */
};

static void ob_start_chain(br_x509_class const **ctx, char const *server_name)
{
  observe *o = (observe *)ctx;
  o->xm->vtable->start_chain(&o->xm->vtable, server_name);
  nc_start_chain(&o->nc->vtable, server_name);
}

static void ob_start_cert(br_x509_class const **ctx, uint32_t length)
{
  observe *o = (observe *)ctx;
  o->xm->vtable->start_cert(&o->xm->vtable, length);
  nc_start_cert(&o->nc->vtable, length);
}

static void ob_append(br_x509_class const **ctx, unsigned char const *buf, size_t len)
{
  observe *o = (observe *)ctx;
  o->xm->vtable->append(&o->xm->vtable, buf, len);
  nc_append(&o->nc->vtable, buf, len);
}

static void ob_end_cert(br_x509_class const **ctx)
{
  observe *o = (observe *)ctx;
  o->xm->vtable->end_cert(&o->xm->vtable);
  nc_end_cert(&o->nc->vtable);
}

static unsigned ob_end_chain(br_x509_class const **ctx)
{
  observe *o = (observe *)ctx;
  o->verdict = o->xm->vtable->end_chain(&o->xm->vtable);
  return nc_end_chain(&o->nc->vtable);
}

static br_x509_pkey const *ob_get_pkey(br_x509_class const *const *ctx, unsigned *usages)
{
  observe const *o = (observe const *)ctx;
  return nc_get_pkey((br_x509_class const *const *)&o->nc->vtable, usages);
}

static br_x509_class const observe_vtable =
{
  sizeof(observe), ob_start_chain, ob_start_cert, ob_append, ob_end_cert,
  ob_end_chain, ob_get_pkey
};

struct rtls_s
{
  br_ssl_client_context sc;
  br_x509_minimal_context xc;
  nocheck nc;
  observe oc;
  br_sslio_context ioc;
  int fd;
  unsigned int timeout;
  int ioerr;      /* errno of the last failed read or write on fd */
  char desc[96];
  char ebuf[200];
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

/* Copies the engine's error text out before t goes away. */
static void fail_text(rtls *t, char *err, size_t errlen)
{
  char const *e = rtls_error(t);
  size_t n = strlen(e);
  if (n >= errlen) n = errlen - 1;
  memcpy(err, e, n);
  err[n] = 0;
}

static rtls *start(int fd, unsigned int timeout, char const *servername, anchors const *a, int observing,
                   tls_suites const *suites, char *err, size_t errlen)
{
  rtls *t = alloc(sizeof *t);
  if (!t) { strncpy(err, "out of memory", errlen - 1); err[errlen - 1] = 0; return 0; }
  memset(t, 0, sizeof *t);
  t->fd = fd;
  t->timeout = timeout;
  if (a)
  {
    br_ssl_client_init_full(&t->sc, &t->xc, genalloc_s(br_x509_trust_anchor, &a->ta),
                            genalloc_len(br_x509_trust_anchor, &a->ta));
    if (observing)
    {
      t->nc.vtable = &nocheck_vtable;
      t->oc.vtable = &observe_vtable;
      t->oc.xm = &t->xc;
      t->oc.nc = &t->nc;
      t->oc.verdict = BR_ERR_X509_NOT_TRUSTED;   /* until a chain says otherwise */
      br_ssl_engine_set_x509(&t->sc.eng, &t->oc.vtable);
    }
  }
  else
  {
    br_ssl_client_init_full(&t->sc, &t->xc, 0, 0);
    t->nc.vtable = &nocheck_vtable;
    br_ssl_engine_set_x509(&t->sc.eng, &t->nc.vtable);
  }
  if (suites) tls_suites_apply(&t->sc.eng, suites);
  else
  {
    tls_suites def;
    tls_suites_default(&def);
    tls_suites_apply(&t->sc.eng, &def);
  }
  br_ssl_engine_set_buffer(&t->sc.eng, t->iobuf, sizeof t->iobuf, 1);
  if (!br_ssl_client_reset(&t->sc, servername, 0))
  {
    fail_text(t, err, errlen);
    alloc_free(t);
    return 0;
  }
  br_sslio_init(&t->ioc, &t->sc.eng, low_read, t, low_write, t);
  /* Flushing with nothing to send runs the handshake to its end. */
  if (br_sslio_flush(&t->ioc) < 0)
  {
    fail_text(t, err, errlen);
    alloc_free(t);
    return 0;
  }
  return t;
}

rtls *rtls_start(int fd, unsigned int timeout, char const *servername, anchors const *a, tls_suites const *suites, char *err, size_t errlen)
{
  return start(fd, timeout, servername, a, 0, suites, err, errlen);
}

rtls *rtls_start_observe(int fd, unsigned int timeout, char const *servername, anchors const *a, tls_suites const *suites, char *err, size_t errlen)
{
  return start(fd, timeout, servername, a, 1, suites, err, errlen);
}

char const *rtls_observed(rtls const *t)
{
  if (!t->oc.vtable) return 0;
  switch (t->oc.verdict)
  {
    case 0: return 0;   /* end_chain's success */
    case BR_ERR_X509_NOT_TRUSTED: return "certificate not trusted";
    case BR_ERR_X509_BAD_SERVER_NAME: return "certificate does not match the host name";
    case BR_ERR_X509_EXPIRED: return "certificate expired or not yet valid";
    default: return "bad certificate";
  }
}

char const *rtls_result(char const *err)
{
  /* the texts of rtls_error and rtls_observed above */
  if (!err) return "success";
  if (strstr(err, "certificate does not match")) return "certificate-host-mismatch";
  if (strstr(err, "certificate expired")) return "certificate-expired";
  if (strstr(err, "certificate not trusted")) return "certificate-not-trusted";
  return "validation-failure";
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
  /* room for the longest text tls_error_text makes (lib/tls.h says 192) */
  char buf[256];
  char const *text;
  size_t n;
  switch (e)
  {
    case BR_ERR_OK:
    case BR_ERR_IO:
      if (t->ioerr == ETIMEDOUT) return "TLS: timed out";
      return t->ioerr ? "TLS: connection lost" : "TLS: connection closed";
    case BR_ERR_X509_NOT_TRUSTED: return "TLS: certificate not trusted";
    case BR_ERR_X509_BAD_SERVER_NAME: return "TLS: certificate does not match the host name";
    case BR_ERR_X509_EXPIRED: return "TLS: certificate expired or not yet valid";
    case BR_ERR_UNSUPPORTED_VERSION: return "TLS: no protocol version in common (the server wants TLS 1.3?)";
    default: break;
  }
  if (e >= BR_ERR_X509_OK && e < BR_ERR_X509_OK + 100) return "TLS: bad certificate";
  /* Alerts and the rest: the shared names (lib/tls.h). */
  memcpy(t->ebuf, "TLS: ", 5);
  text = tls_error_text(e, buf, sizeof buf);
  n = strlen(text);
  if (n > sizeof t->ebuf - 6) n = sizeof t->ebuf - 6;
  memcpy(t->ebuf + 5, text, n);
  t->ebuf[5 + n] = 0;
  return t->ebuf;
}

char const *rtls_describe(rtls *t)
{
  size_t n = 0;
  char const *v = tls_version_name(br_ssl_engine_get_version(&t->sc.eng));
  char const *c = tls_cipher_name(t->sc.eng.session.cipher_suite);
  size_t vl = strlen(v), cl = strlen(c);
  if (vl + cl + 2 > sizeof t->desc) return v;
  memcpy(t->desc, v, vl); n = vl;
  t->desc[n++] = ' ';
  memcpy(t->desc + n, c, cl); n += cl;
  t->desc[n] = 0;
  return t->desc;
}

void rtls_free(rtls *t)
{
  alloc_free(t);
}
