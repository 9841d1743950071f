/* Unit tests for lib/jobmsg.c: the batch records between tern-send and
 * tern-remote -b, and their transport with a file descriptor. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include "tap.h"
#include "jobmsg.h"

#define S(x) x, sizeof(x) - 1
#define ID "0123456789abcdef"

int main(void)
{
  jobmsg j;
  stralloc sa = STRALLOC_ZERO;
  char buf[JOBMSG_MAX + 1];
  int sv[2], fd, p[2];
  ssize_t r;
  ok(jobmsg_parse(&j, S("M" ID " far.test 0 2 17")), "M record");
  ok(j.type == 'M' && !strcmp(j.id, ID) && !strcmp(j.domain, "far.test") && j.n == 3 && j.idx[2] == 17,
     "fields");
  ok(jobmsg_parse(&j, S("D" ID)) && j.type == 'D', "D record");
  ok(!jobmsg_parse(&j, S("D" ID " ")), "D with trailing bytes refused");
  ok(!jobmsg_parse(&j, S("D0123456789abcde")), "short ID refused");
  ok(!jobmsg_parse(&j, S("D0123456789ABCDEF")), "uppercase ID refused");
  ok(!jobmsg_parse(&j, S("M" ID " far.test")), "M without recipients refused");
  ok(!jobmsg_parse(&j, S("M" ID " far.test 1 1")), "repeated index refused");
  ok(!jobmsg_parse(&j, S("M" ID " far.test 01")), "leading zero refused");
  ok(!jobmsg_parse(&j, S("M" ID " far.test -1")), "sign refused");
  ok(!jobmsg_parse(&j, S("M" ID " far.test 1 ")), "trailing space refused");
  ok(!jobmsg_parse(&j, S("M" ID " far.test 1x")), "trailing garbage refused");
  ok(!jobmsg_parse(&j, S("M" ID "  1")), "empty domain refused");
  ok(!jobmsg_parse(&j, S("M" ID " fa\tr 1")), "control in the domain refused");
  ok(!jobmsg_parse(&j, S("M" ID " far.test 99999999999999999999")), "overflowing index refused");
  ok(!jobmsg_parse(&j, S("X" ID)), "unknown type refused");
  ok(!jobmsg_parse(&j, "M" ID " a 1\0", sizeof("M" ID " a 1")), "NUL after the record refused");
  {
    /* 256 indices fit; 257 do not */
    stralloc big = STRALLOC_ZERO;
    unsigned int k;
    char n[16];
    stralloc_cats(&big, "M" ID " far.test");
    for (k = 0; k < 256; k++) { snprintf(n, sizeof n, " %u", k); stralloc_cats(&big, n); }
    ok(jobmsg_parse(&j, big.s, big.len) && j.n == 256, "256 recipients");
    stralloc_cats(&big, " 256");
    ok(!jobmsg_parse(&j, big.s, big.len), "257 refused");
    stralloc_free(&big);
  }
  memset(&j, 0, sizeof j);
  j.type = 'M'; memcpy(j.id, ID, 17); strcpy(j.domain, "far.test"); j.n = 2; j.idx[0] = 3; j.idx[1] = 0;
  ok(jobmsg_fmt(&sa, &j) && sa.len == strlen("M" ID " far.test 3 0") && !memcmp(sa.s, "M" ID " far.test 3 0", sa.len),
     "fmt round trip");
  ok(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0 && pipe(p) == 0, "socketpair");
  ok(jobmsg_send(sv[0], sa.s, sa.len, p[0]) == 1, "send with an fd");
  r = jobmsg_recv(sv[1], buf, sizeof buf, &fd);
  ok(r == (ssize_t)sa.len && fd >= 0 && fd != p[0], "received with an fd");
  ok(fcntl(fd, F_GETFD) & FD_CLOEXEC, "received fd is close-on-exec");
  ok(write(p[1], "x", 1) == 1 && read(fd, buf, 1) == 1 && buf[0] == 'x', "it is the same pipe");
  close(fd);
  ok(jobmsg_send(sv[0], sa.s, sa.len, p[0]) == 1, "send again");
  r = jobmsg_recv(sv[1], buf, sizeof buf, 0);
  ok(r < 0 && errno == EPROTO, "an fd where none is wanted: refused");
  ok(jobmsg_send(sv[0], sa.s, sa.len, -1) == 1, "send a long record");
  r = jobmsg_recv(sv[1], buf, 10, &fd);
  ok(r < 0 && errno == EPROTO && fd == -1, "a packet cut by the buffer: refused");
  {
    /* several fds (a pooled tern-tlsd hands its worker 2 or 4) */
    int four[4] = { p[0], p[1], p[0], p[1] }, got[4];
    unsigned int k;
    unsigned int n = 9;
    ok(jobmsg_sendv(sv[0], "C", 1, four, 4) == 1, "send with four fds");
    r = jobmsg_recvv(sv[1], buf, sizeof buf, got, &n, 4);
    ok(r == 1 && n == 4 && got[0] > 2 && got[3] > 2, "received with four fds");
    ok(write(got[1], "y", 1) == 1 && read(got[2], buf, 1) == 1 && buf[0] == 'y', "in the order sent");
    for (k = 0; k < 4; k++) close(got[k]);
    ok(jobmsg_sendv(sv[0], "C", 1, four, 3) == 1, "send with three fds");
    r = jobmsg_recvv(sv[1], buf, sizeof buf, got, &n, 2);
    ok(r < 0 && errno == EPROTO && n == 0, "more fds than wanted: refused");
    ok(jobmsg_sendv(sv[0], "C", 1, four, 5) < 0 && errno == EINVAL, "more than JOBMSG_FDS_MAX: not sent");
    ok(jobmsg_sendv(sv[0], "C", 1, four, 2) == 1, "send with two fds");
    ok(jobmsg_recv(sv[1], buf, sizeof buf, &fd) < 0 && errno == EPROTO, "two fds where one is wanted: refused");
  }
  close(sv[0]);
  ok(jobmsg_recv(sv[1], buf, sizeof buf, &fd) == 0, "end of file");
  stralloc_free(&sa);
  return done_testing();
}
