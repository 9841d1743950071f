/* rules_addr.c: client address and host name normalization shared by the rules programs. */
#include <string.h>
#include <skalibs/bytestr.h>
#include <skalibs/fmtscan.h>
#include <skalibs/ip46.h>
#include "rules_parse.h"
#include "rules_addr.h"

void rules_addr_unmap(ip46 *ip)
{
  static char const mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (char)0xff, (char)0xff };
  if (ip46_is6(ip) && !memcmp(ip->ip, mapped, 12))
  {
    char v4[4];
    memcpy(v4, ip->ip + 12, 4);
    ip46_from_ip4(ip, v4);
  }
}

int rules_addr_scan(char const *s, ip46 *ip)
{
  size_t n = strlen(s);
  if (!n || ip46_scan(s, ip) != n) return 0;
  rules_addr_unmap(ip);
  return 1;
}

int rules_host_normalize(char *out, char const *name)
{
  size_t i, n = strlen(name);
  if (n && name[n - 1] == '.') n--;
  if (!n || n > RULES_HOST_MAX) return 0;
  for (i = 0; i < n; i++)
  {
    char c = name[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
      return 0;
  }
  memcpy(out, name, n);
  out[n] = 0;
  case_lowerb(out, n);
  return 1;
}
