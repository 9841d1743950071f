/* tern-metrics: Prometheus metrics of an instance, one scrape per run.
 *
 * Interface: tern-metrics [-t file] [-T secs] [path...]. Counts the logs
 * (the paths, or every directory under $TERN_HOME/log/, as tern-logsum)
 * and the queue, and writes the text exposition format: without -t as a
 * one-shot HTTP/1.0 responder on fds 0/1 (run it under tern-tcpserver:
 * GET or HEAD of /metrics or /; anything else gets 400, 404 or 405); with
 * -t to file, replaced atomically, for node_exporter's textfile collector.
 * The counters come from the logs every time, so they survive the restart
 * of any program (docs/metrics.md says what resets them).
 *
 * SECURITY: runs as the log user (tern-setup -M): reads the logs and lists
 * the queue, writes nothing but its answer. The request is read with a
 * deadline (-T, default 10 s) and at most 8 KiB; nothing of it is echoed.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/iopause.h>
#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>
#include "control.h"
#include "logread.h"
#include "metrics_fmt.h"

#define USAGE "tern-metrics [-t file] [-T secs] [path...]"
#define REQ_MAX 8192

/* The request head, up to its blank line; 0 on timeout, EOF or overflow. */
static size_t read_request(char *buf, unsigned int secs)
{
  size_t len = 0;
  tain deadline;
  tain_now_set_stopwatch_g();
  tain_addsec_g(&deadline, secs);
  while (len < REQ_MAX - 1)
  {
    iopause_fd x = { 0, IOPAUSE_READ, 0 };
    ssize_t r;
    int n = iopause_g(&x, 1, &deadline);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 0;
    r = read(0, buf + len, REQ_MAX - 1 - len);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return 0;
    len += (size_t)r;
    buf[len] = 0;
    if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n")) return len;
  }
  return 0;
}

static void reply(char const *status, char const *body, size_t len, int head)
{
  char num[SIZE_FMT];
  stralloc sa = STRALLOC_ZERO;
  num[size_fmt(num, len)] = 0;
  if (!stralloc_cats(&sa, "HTTP/1.0 ") || !stralloc_cats(&sa, status)
      || !stralloc_cats(&sa, "\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: ")
      || !stralloc_cats(&sa, num) || !stralloc_cats(&sa, "\r\nConnection: close\r\n\r\n")
      || (!head && !stralloc_catb(&sa, body, len)))
    strerr_diefu(111, "build the reply: out of memory");
  if (allwrite(1, sa.s, sa.len) < sa.len) strerr_diefusys(111, "write the reply");
  stralloc_free(&sa);
}

static void collect(stralloc *out, char const *const *paths)
{
  logsum s;
  metrics_queue q;
  if (!logsum_init(&s, 0, 0)) strerr_diefu(111, "allocate the tables");
  if (!*paths)
  {
    if (logread_home(&s) < 0) strerr_warnwusys("read every log under ", tern_home(), "/log");
  }
  else
    for (; *paths; paths++)
      if (logread_path(&s, *paths) < 0) strerr_warnwusys("read ", *paths);
  logsum_finish(&s);
  metrics_queue_read(&q, (int64_t)time(0));
  if (!metrics_fmt(out, &s, &q)) strerr_diefu(111, "format the metrics: out of memory");
  logsum_free(&s);
}

static int serve(char const *const *paths, unsigned int secs)
{
  char req[REQ_MAX];
  stralloc out = STRALLOC_ZERO;
  int head;
  size_t ml;
  if (!read_request(req, secs))
  {
    reply("400 Bad Request", "bad or no request\n", 18, 0);
    return 100;
  }
  ml = strcspn(req, " ");
  head = ml == 4 && !memcmp(req, "HEAD", 4);
  if (!head && !(ml == 3 && !memcmp(req, "GET", 3)))
  {
    reply("405 Method Not Allowed", "only GET and HEAD\n", 18, 0);
    return 100;
  }
  if (strncmp(req + ml, " /metrics ", 10) && strncmp(req + ml, " / ", 3)
      && strncmp(req + ml, " /metrics?", 10) && strncmp(req + ml, " /?", 3))
  {
    reply("404 Not Found", "try /metrics\n", 13, 0);
    return 100;
  }
  collect(&out, paths);
  reply("200 OK", out.s, out.len, head);
  stralloc_free(&out);
  return 0;
}

int main(int argc, char const *const *argv)
{
  subgetopt l = SUBGETOPT_ZERO;
  char const *file = 0;
  unsigned int secs = 10;
  int opt;
  PROG = "tern-metrics";
  while ((opt = subgetopt_r(argc, argv, "t:T:", &l)) != -1)
  {
    switch (opt)
    {
      case 't': file = l.arg; break;
      case 'T': if (!uint0_scan(l.arg, &secs) || !secs || secs > 3600) strerr_dieusage(100, USAGE); break;
      default: strerr_dieusage(100, USAGE);
    }
  }
  argv += l.ind;
  if (!file) return serve(argv, secs);
  {
    stralloc out = STRALLOC_ZERO;
    collect(&out, argv);
    /* node_exporter must never read half a file: write aside, then rename */
    if (!openwritenclose_suffix(file, out.s, out.len, ".tmp")) strerr_diefusys(111, "write ", file);
    stralloc_free(&out);
  }
  return 0;
}
