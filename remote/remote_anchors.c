/* remote_anchors.c: trust anchors for verified outbound TLS, from a PEM bundle. */
#include <errno.h>
#include <string.h>
#include <skalibs/stralloc.h>
#include <skalibs/djbunix.h>
#include <skalibs/alloc.h>
#include "tls.h"
#include "remote_tls.h"

static void sa_append(void *ctx, void const *buf, size_t len)
{
  /* Out of memory leaves the bytes short: the DER or DN then fails to decode
   * or to match, and the certificate is skipped. */
  (void)stralloc_catb((stralloc *)ctx, buf, len);
}

static unsigned char *dup(void const *s, size_t n)
{
  unsigned char *d = alloc(n ? n : 1);
  if (d && n) memcpy(d, s, n);
  return d;
}

/* Turns one DER certificate into an anchor. 1 added, 0 skipped, -1 ENOMEM. */
static int add_der(anchors *a, unsigned char const *der, size_t len)
{
  br_x509_decoder_context dc;
  br_x509_trust_anchor ta;
  br_x509_pkey const *pk;
  stralloc dn = STRALLOC_ZERO;
  memset(&ta, 0, sizeof ta);
  br_x509_decoder_init(&dc, sa_append, &dn);
  br_x509_decoder_push(&dc, der, len);
  pk = br_x509_decoder_get_pkey(&dc);
  if (!pk || !dn.len) { stralloc_free(&dn); return 0; }
  ta.dn.data = dup(dn.s, dn.len);
  ta.dn.len = dn.len;
  stralloc_free(&dn);
  ta.flags = br_x509_decoder_isCA(&dc) ? BR_X509_TA_CA : 0;
  ta.pkey.key_type = pk->key_type;
  if (pk->key_type == BR_KEYTYPE_RSA)
  {
    ta.pkey.key.rsa.n = dup(pk->key.rsa.n, pk->key.rsa.nlen);
    ta.pkey.key.rsa.nlen = pk->key.rsa.nlen;
    ta.pkey.key.rsa.e = dup(pk->key.rsa.e, pk->key.rsa.elen);
    ta.pkey.key.rsa.elen = pk->key.rsa.elen;
  }
  else
  {
    ta.pkey.key.ec.curve = pk->key.ec.curve;
    ta.pkey.key.ec.q = dup(pk->key.ec.q, pk->key.ec.qlen);
    ta.pkey.key.ec.qlen = pk->key.ec.qlen;
  }
  if (!ta.dn.data || (pk->key_type == BR_KEYTYPE_RSA ? !ta.pkey.key.rsa.n || !ta.pkey.key.rsa.e : !ta.pkey.key.ec.q)
   || !genalloc_append(br_x509_trust_anchor, &a->ta, &ta))
    return -1;
  return 1;
}

int anchors_load(anchors *a, char const *path)
{
  stralloc file = STRALLOC_ZERO, der = STRALLOC_ZERO;
  size_t pos = 0;
  int n = 0, r;
  if (!openreadfileclose(path, &file, 0)) return -1;
  r = tls_pem_objects(&der, file.s, file.len, "CERTIFICATE");
  stralloc_free(&file);
  if (r < 0) { stralloc_free(&der); return -1; }
  /* Each object: its length in 4 bytes, big-endian, then the DER bytes. */
  while (pos + 4 <= der.len)
  {
    unsigned char const *p = (unsigned char const *)der.s + pos;
    size_t len = ((size_t)p[0] << 24) | ((size_t)p[1] << 16) | ((size_t)p[2] << 8) | p[3];
    if (len > der.len - pos - 4) break;
    r = add_der(a, p + 4, len);
    if (r < 0) { stralloc_free(&der); errno = ENOMEM; return -1; }
    n += r;
    pos += 4 + len;
  }
  stralloc_free(&der);
  return n;
}

void anchors_free(anchors *a)
{
  size_t i, n = genalloc_len(br_x509_trust_anchor, &a->ta);
  br_x509_trust_anchor *t = genalloc_s(br_x509_trust_anchor, &a->ta);
  for (i = 0; i < n; i++)
  {
    alloc_free(t[i].dn.data);
    if (t[i].pkey.key_type == BR_KEYTYPE_RSA)
    {
      alloc_free(t[i].pkey.key.rsa.n);
      alloc_free(t[i].pkey.key.rsa.e);
    }
    else alloc_free(t[i].pkey.key.ec.q);
  }
  genalloc_free(br_x509_trust_anchor, &a->ta);
}
