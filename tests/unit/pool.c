/* Unit tests for lib/pool.c: the connection record a pooled worker gets
 * from tern-tcpserver -w (pool_conn_parse's every refusal). */
#include <string.h>
#include "tap.h"
#include "pool.h"

#define S(x) x, sizeof(x) - 1

int main(void)
{
  static char big[POOL_REC_MAX + 2];
  size_t vars, i;
  ok(pool_conn_parse(S("C"), &vars) && vars == 0, "C alone: no changes");
  ok(pool_conn_parse(S("CPROTO=TCP\0TCPREMOTEHOST\0RELAYCLIENT=\0"), &vars) && vars == 3,
     "set, remove, set empty");
  ok(!pool_conn_parse(S(""), &vars), "empty refused");
  ok(!pool_conn_parse(S("XPROTO=TCP\0"), &vars), "wrong type refused");
  ok(!pool_conn_parse(S("CPROTO=TCP"), &vars), "unterminated last change refused");
  ok(!pool_conn_parse(S("CPROTO=TCP\0\0"), &vars), "empty change refused");
  ok(!pool_conn_parse(S("C=x\0"), &vars), "change without a name refused");
  big[0] = 'C';
  for (i = 1; i + 1 < sizeof big; i += 2) { big[i] = 'A'; big[i + 1] = 0; }
  ok(!pool_conn_parse(big, POOL_REC_MAX, &vars), "more than POOL_ENV_VARS changes refused");
  ok(!pool_conn_parse(big, sizeof big, &vars), "record longer than POOL_REC_MAX refused");
  memset(big + 1, 'A', POOL_REC_MAX - 1);
  big[POOL_REC_MAX - 1] = 0;
  ok(pool_conn_parse(big, POOL_REC_MAX, &vars) && vars == 1, "one long change up to the limit accepted");
  return done_testing();
}
