/* tcpserver_ident.c: RFC 1413 ident lookups for tern-tcpserver -r. */
#include "tcpserver.h"

int tcpserver_ident(ip46 const *local, uint16_t lport, ip46 const *remote, uint16_t rport, unsigned int timeout, char *out, size_t outmax)
{
  (void)local; (void)lport; (void)remote; (void)rport; (void)timeout;
  if (outmax) out[0] = 0;
  return 0;
}
