/* Unit tests for rules/tcpserver_port.c: numbers and service names. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <unistd.h>
#include <errno.h>
#include "tap.h"
#include "../../rules/tcpserver.h"

int main(void)
{
  char path[] = "/tmp/tern-services-XXXXXX";
  int fd = mkstemp(path);
  FILE *f = fd >= 0 ? fdopen(fd, "w") : 0;
  uint16_t p = 0;
  if (!f) return 111;
  fputs("# a services file\n"
        "tcpmux\t\t1/tcp\t\t\t\t# TCP port service multiplexer\n"
        "smtp\t\t2525/tcp\tmail\n"
        "syslog\t\t514/udp\n"
        "weird  99/tcpx\n"
        "bad 70000/tcp\n"
        "submissions\t465/tcp\t\tssmtp smtps urd # Submission over TLS\n"
        "lastline 4242/tcp", f);
  fclose(f);
  ok(tcpserver_port("25", path, &p) == 1 && p == 25, "a number");
  ok(tcpserver_port("0", path, &p) == 1 && p == 0, "0: any free port");
  ok(tcpserver_port("65535", path, &p) == 1 && p == 65535, "65535");
  ok(tcpserver_port("65536", path, &p) == 0 && errno == EINVAL, "65536 refused");
  ok(tcpserver_port("000025", path, &p) == 0, "six digits refused");
  ok(tcpserver_port("25x", path, &p) == 0 && errno == ENOENT, "25x: a name no file knows");
  ok(tcpserver_port("", path, &p) == 0 && errno == EINVAL, "empty refused");
  ok(tcpserver_port("a b", path, &p) == 0 && errno == EINVAL, "a blank refused");
  ok(tcpserver_port("smtp", path, &p) == 1 && p == 2525, "the file wins over the built-in table");
  ok(tcpserver_port("mail", path, &p) == 1 && p == 2525, "an alias");
  ok(tcpserver_port("smtps", path, &p) == 1 && p == 465, "an alias after others");
  ok(tcpserver_port("urd", path, &p) == 1 && p == 465, "the last alias before a comment");
  ok(tcpserver_port("syslog", path, &p) == 0, "a udp-only service is not a TCP port");
  ok(tcpserver_port("weird", path, &p) == 0, "a bad protocol field is skipped");
  ok(tcpserver_port("bad", path, &p) == 0, "a port past 65535 is skipped");
  ok(tcpserver_port("lastline", path, &p) == 1 && p == 4242, "a last line without newline");
  ok(tcpserver_port("tcpmux", path, &p) == 1 && p == 1, "a line with a comment");
  ok(tcpserver_port("pop3s", path, &p) == 1 && p == 995, "not in the file: the built-in table");
  ok(tcpserver_port("Smtp", path, &p) == 0, "names are case-sensitive (as getservbyname)");
  ok(tcpserver_port("nosuch", path, &p) == 0 && errno == ENOENT, "unknown name");
  unlink(path);
  ok(tcpserver_port("submission", path, &p) == 1 && p == 587, "no services file: the built-in table");
  ok(tcpserver_port("nosuch", path, &p) == 0 && errno == ENOENT, "no services file, unknown name");
  {
    char big[100];
    memset(big, 'a', 99); big[99] = 0;
    ok(tcpserver_port(big, path, &p) == 0 && errno == EINVAL, "a 99-character name refused");
  }
  return done_testing();
}
