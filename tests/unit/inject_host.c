/* Unit tests for queue/inject_host.c: bare names as qmail-inject qualifies them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <skalibs/stralloc.h>
#include "tap.h"
#include "../../queue/inject.h"

static char home[] = "/tmp/tern-injhost-XXXXXX";

static void put(char const *name, char const *text)
{
  char path[256];
  FILE *f;
  snprintf(path, sizeof path, "%s/control/%s", home, name);
  if (!text) { unlink(path); return; }
  f = fopen(path, "w");
  fputs(text, f);
  fclose(f);
}

static char const *q(char const *addr)
{
  static stralloc out = STRALLOC_ZERO;
  injhost h = INJHOST_ZERO;
  char const *what;
  if (!inject_host_load(&h, &what)) return "(load failed)";
  if (!inject_qualify(&out, addr, &h)) return "(nomem)";
  return out.s;
}

int main(void)
{
  char dir[300];
  if (!mkdtemp(home)) return 111;
  snprintf(dir, sizeof dir, "%s/control", home);
  mkdir(dir, 0700);
  setenv("TERN_HOME", home, 1);

  put("me", "mail.ex.test\n");
  is_str(q("root"), "root@mail.ex.test", "only me: bare name @me (qmail)");
  is_str(q("joe@box"), "joe@box.mail.ex.test", "only me: a name without a dot gets me as defaultdomain (qmail)");
  put("defaultdomain", "ex.test\n");
  is_str(q("root"), "root@ex.test", "defaultdomain, no defaulthost: bare name @defaultdomain (tern)");
  is_str(q("joe@box"), "joe@box.ex.test", "a name without a dot gets .defaultdomain");
  is_str(q("joe@far.example"), "joe@far.example", "a name with a dot is left alone");
  is_str(q("joe@[192.0.2.1]"), "joe@[192.0.2.1]", "an address literal is left alone");
  put("defaulthost", "hq\n");
  is_str(q("root"), "root@hq.ex.test", "defaulthost without a dot gets .defaultdomain (qmail)");
  put("defaulthost", "ex.test\n");
  is_str(q("root"), "root@ex.test", "defaulthost wins");
  is_str(q("joe@box+"), "joe@box.mail.ex.test", "host+ without plusdomain: .me");
  put("plusdomain", "plus.test\n");
  is_str(q("joe@box+"), "joe@box.plus.test", "host+ gets .plusdomain in place of the plus");
  put("defaulthost", "\n");
  is_str(q("root"), "root@ex.test", "an empty defaulthost counts as none");
  put("me", 0);
  put("defaultdomain", 0);
  {
    injhost h = INJHOST_ZERO;
    char const *what;
    ok(!inject_host_load(&h, &what) && !strcmp(what, "me"), "nothing to go by: refused, naming control/me");
  }
  {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", home);
    if (system(cmd)) {}
  }
  return done_testing();
}
