/* tls.c: loading PEM keys and certificate chains for BearSSL, and the server context setup. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bearssl.h>
#include <skalibs/stralloc.h>
#include <skalibs/djbunix.h>
#include "tls.h"

/* Receives decoded bytes of one PEM object; out of memory is remembered. */
typedef struct pemdest_s pemdest;
struct pemdest_s
{
  stralloc *out;
  int nomem;
};

static void pem_append(void *ctx, void const *src, size_t len)
{
  pemdest *d = ctx;
  if (!stralloc_catb(d->out, src, len)) d->nomem = 1;
}

static int name_matches(char const *got, char const *want)
{
  if (want[0] != '*') return !strcmp(got, want);
  want++;
  return !!strstr(got, want) && !strstr(got, "ENCRYPTED");
}

/* Handles one decoder event; returns 1 while decoding may go on, 0 on a
 * PEM error. *start is where the current object's length prefix sits, or
 * (size_t)-1 outside a wanted object. */
static int pem_event(br_pem_decoder_context *pc, pemdest *d, char const *name, size_t *start, int *count)
{
  switch (br_pem_decoder_event(pc))
  {
    case BR_PEM_BEGIN_OBJ:
      if (name_matches(br_pem_decoder_name(pc), name))
      {
        *start = d->out->len;
        if (!stralloc_catb(d->out, "\0\0\0\0", 4)) d->nomem = 1;
        br_pem_decoder_setdest(pc, &pem_append, d);
      }
      else br_pem_decoder_setdest(pc, 0, 0);
      return 1;
    case BR_PEM_END_OBJ:
      if (*start != (size_t)-1 && !d->nomem)
      {
        size_t n = d->out->len - *start - 4;
        unsigned char *p = (unsigned char *)d->out->s + *start;
        p[0] = n >> 24; p[1] = n >> 16; p[2] = n >> 8; p[3] = n;
        (*count)++;
      }
      *start = (size_t)-1;
      return 1;
    case BR_PEM_ERROR:
      return 0;
    default:
      return 1;
  }
}

int tls_pem_objects(stralloc *out, char const *s, size_t len, char const *name)
{
  br_pem_decoder_context pc;
  pemdest d = { .out = out, .nomem = 0 };
  size_t start = (size_t)-1, base = out->len;
  int count = 0, pass;
  br_pem_decoder_init(&pc);
  /* The decoder needs a newline after the last "-----END" line. */
  for (pass = 0; pass < 2; pass++)
  {
    char const *p = pass ? "\n" : s;
    size_t n = pass ? 1 : len;
    while (n)
    {
      size_t k = br_pem_decoder_push(&pc, p, n);
      p += k; n -= k;
      if (!pem_event(&pc, &d, name, &start, &count)) goto bad;
    }
  }
  if (start != (size_t)-1) goto bad;  /* an object without its END line */
  if (d.nomem) { out->len = base; errno = ENOMEM; return -1; }
  return count;
 bad:
  out->len = base;
  errno = EINVAL;
  return -1;
}

static size_t der_next(stralloc const *sa, size_t *pos, char const **der)
{
  unsigned char const *p = (unsigned char const *)sa->s + *pos;
  size_t n = ((size_t)p[0] << 24) | ((size_t)p[1] << 16) | ((size_t)p[2] << 8) | p[3];
  *der = sa->s + *pos + 4;
  *pos += 4 + n;
  return n;
}

static void wipe(stralloc *sa)
{
  volatile char *p = sa->s;
  size_t i;
  for (i = 0; i < sa->a; i++) p[i] = 0;
  stralloc_free(sa);
}

int tls_key_load(tls_key *k, char const *path, char const **why)
{
  stralloc file = STRALLOC_ZERO, der = STRALLOC_ZERO;
  char const *p;
  size_t pos = 0, n;
  int r;
  *why = 0;
  if (!openslurpclose(&file, path)) return 0;
  r = tls_pem_objects(&der, file.s, file.len, "*PRIVATE KEY");
  wipe(&file);
  if (r < 0) { wipe(&der); if (errno == EINVAL) *why = "not a valid PEM file"; return 0; }
  if (r != 1) { wipe(&der); *why = r ? "more than one private key in the file" : "no unencrypted private key in the file"; return 0; }
  n = der_next(&der, &pos, &p);
  br_skey_decoder_init(&k->dc);
  br_skey_decoder_push(&k->dc, p, n);
  wipe(&der);
  if (br_skey_decoder_last_error(&k->dc)) { *why = "the private key cannot be decoded (EC or RSA expected)"; return 0; }
  return 1;
}

int tls_key_type(tls_key const *k)
{
  return br_skey_decoder_key_type(&k->dc);
}

/* Decodes the leaf to learn its key type and the type of its signer. */
static int chain_leaf_types(tls_chain *c)
{
  br_x509_decoder_context xc;
  br_x509_decoder_init(&xc, 0, 0);
  br_x509_decoder_push(&xc, c->certs[0].data, c->certs[0].data_len);
  if (br_x509_decoder_last_error(&xc) || !br_x509_decoder_get_pkey(&xc)) return 0;
  c->leaf_key_type = br_x509_decoder_get_pkey(&xc)->key_type;
  c->issuer_key_type = br_x509_decoder_get_signer_key_type(&xc);
  return c->issuer_key_type != 0;
}

int tls_chain_load(tls_chain *c, char const *path, char const **why)
{
  stralloc file = STRALLOC_ZERO;
  size_t pos = 0, i;
  int r;
  *why = 0;
  if (!openslurpclose(&file, path)) return 0;
  c->store.len = 0;
  r = tls_pem_objects(&c->store, file.s, file.len, "CERTIFICATE");
  stralloc_free(&file);
  if (r < 0) { if (errno == EINVAL) *why = "not a valid PEM file"; return 0; }
  if (!r) { *why = "no certificate in the file"; return 0; }
  c->certs = (br_x509_certificate *)malloc((size_t)r * sizeof(br_x509_certificate));
  if (!c->certs) return 0;
  c->n = (size_t)r;
  for (i = 0; i < c->n; i++)
  {
    char const *der;
    c->certs[i].data_len = der_next(&c->store, &pos, &der);
    c->certs[i].data = (unsigned char *)der;
  }
  if (!chain_leaf_types(c)) { tls_chain_free(c); *why = "the first certificate cannot be decoded"; return 0; }
  return 1;
}

void tls_chain_free(tls_chain *c)
{
  free(c->certs);
  c->certs = 0;
  c->n = 0;
  stralloc_free(&c->store);
}

int tls_server_init(br_ssl_server_context *sc, tls_key const *k, tls_chain const *c, unsigned char *buf, size_t buflen)
{
  int kt = tls_key_type(k);
  if ((unsigned int)kt != c->leaf_key_type) return 0;
  if (kt == BR_KEYTYPE_EC)
    br_ssl_server_init_full_ec(sc, c->certs, c->n, c->issuer_key_type, br_skey_decoder_get_ec(&k->dc));
  else if (kt == BR_KEYTYPE_RSA)
    br_ssl_server_init_full_rsa(sc, c->certs, c->n, br_skey_decoder_get_rsa(&k->dc));
  else return 0;
  /* TLS 1.0 and 1.1 are deprecated (RFC 8996). */
  br_ssl_engine_set_versions(&sc->eng, BR_TLS12, BR_TLS12);
  /* Our suite order wins (the caller narrows the list: tls_suites_apply);
   * no renegotiation, which only gives a client a way to make us spend CPU. */
  br_ssl_engine_add_flags(&sc->eng, BR_OPT_ENFORCE_SERVER_PREFERENCES | BR_OPT_NO_RENEGOTIATION);
  br_ssl_engine_set_buffer(&sc->eng, buf, buflen, 1);
  return 1;
}
