/* dkim_der.c: DER for RSA public keys and Ed25519 private keys (dkim_der.h). */
#include "dkim_der.h"

/* Appends tag, the DER length of n, then s[0..n). */
static int tlv(stralloc *out, unsigned char tag, char const *s, size_t n)
{
  char h[4];
  size_t k = 0;
  h[k++] = (char)tag;
  if (n < 128) h[k++] = (char)n;
  else if (n < 256) { h[k++] = (char)0x81; h[k++] = (char)n; }
  else if (n < 65536) { h[k++] = (char)0x82; h[k++] = (char)(n >> 8); h[k++] = (char)n; }
  else return 0;
  return stralloc_catb(out, h, k) && stralloc_catb(out, s, n);
}

/* An unsigned INTEGER: leading zeros dropped, one put back when the top
 * bit is set (DER integers are signed). */
static int integer(stralloc *out, unsigned char const *v, size_t n)
{
  stralloc t = STRALLOC_ZERO;
  int ok;
  while (n > 1 && !v[0]) { v++; n--; }
  ok = (!(v[0] & 0x80) || stralloc_catb(&t, "", 1)) && stralloc_catb(&t, (char const *)v, n)
    && tlv(out, 0x02, t.s, t.len);
  stralloc_free(&t);
  return ok;
}

int dkim_der_rsa_spki(stralloc *out, unsigned char const *n, size_t nlen,
  unsigned char const *e, size_t elen)
{
  static char const alg[] =   /* SEQUENCE { OID 1.2.840.113549.1.1.1, NULL } */
    "\x30\x0d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01\x05\x00";
  stralloc ints = STRALLOC_ZERO, seq = STRALLOC_ZERO, bits = STRALLOC_ZERO, all = STRALLOC_ZERO;
  int ok = integer(&ints, n, nlen) && integer(&ints, e, elen)
        && tlv(&seq, 0x30, ints.s, ints.len)
        && stralloc_catb(&bits, "", 1) && stralloc_cat(&bits, &seq)   /* no unused bits */
        && stralloc_catb(&all, alg, sizeof alg - 1)
        && tlv(&all, 0x03, bits.s, bits.len)
        && tlv(out, 0x30, all.s, all.len);
  stralloc_free(&ints);
  stralloc_free(&seq);
  stralloc_free(&bits);
  stralloc_free(&all);
  return ok;
}

unsigned char const dkim_der_ed25519_prefix[16] =
  { 0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20 };

int dkim_der_ed25519_pkcs8(stralloc *out, unsigned char const *seed)
{
  return stralloc_catb(out, (char const *)dkim_der_ed25519_prefix, sizeof dkim_der_ed25519_prefix)
      && stralloc_catb(out, (char const *)seed, 32);
}
