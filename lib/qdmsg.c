/* qdmsg.c: framing between tern-smtpd and tern-queued (qdmsg.h). */
#include <string.h>
#include "qdmsg.h"
#include "queuewrite.h"

void qdmsg_hdr(char *h, char t, uint32_t len)
{
  h[0] = t;
  h[1] = (char)(len >> 24);
  h[2] = (char)(len >> 16);
  h[3] = (char)(len >> 8);
  h[4] = (char)len;
}

int qdmsg_hdr_parse(char const *h, char *t, uint32_t *len)
{
  unsigned char const *u = (unsigned char const *)h;
  uint32_t n = (uint32_t)u[1] << 24 | (uint32_t)u[2] << 16 | (uint32_t)u[3] << 8 | u[4];
  switch (h[0])
  {
    case 'R': case 'B': if (n) return 0; break;
    case 'I': if (n != QUEUEID_LEN) return 0; break;
    case 'D': case 'E': if (!n || n > QDMSG_MAX) return 0; break;
    case 'C': if (n != 1 && n != QDMSG_RESULT) return 0; break;
    default: return 0;
  }
  *t = h[0];
  *len = n;
  return 1;
}

size_t qdmsg_result(char *out, int code, char const *id)
{
  size_t n = code ? 1 : QDMSG_RESULT;
  qdmsg_hdr(out, 'C', (uint32_t)n);
  out[QDMSG_HDR] = (char)code;
  if (!code) memcpy(out + QDMSG_HDR + 1, id, QUEUEID_LEN);
  return QDMSG_HDR + n;
}

int qdmsg_result_parse(char const *s, size_t n, int *code, char *id)
{
  int c;
  if (!n) return 0;
  c = (unsigned char)s[0];
  /* a success names the file; a failure names nothing */
  if (n != (c ? 1 : QDMSG_RESULT)) return 0;
  if (!c)
  {
    memcpy(id, s + 1, QUEUEID_LEN);
    id[QUEUEID_LEN] = 0;
    if (!queuewrite_id_ok(id, 0, 0)) return 0;
  }
  *code = c;
  return 1;
}
