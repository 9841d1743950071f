/* tcpserver_host.c: the client's host name for TCPREMOTEHOST and =host rules. */
#include "rules_parse.h"
#include "tcpserver.h"

/* Reverse lookups wait for lib/dns (c-ares); until then no name is known,
 * so host rules never match and TCPREMOTEHOST stays unset. */
int tcpserver_host(ip46 const *remote, int paranoid, unsigned int timeout, char *out)
{
  (void)remote; (void)paranoid; (void)timeout;
  out[0] = 0;
  return 0;
}
