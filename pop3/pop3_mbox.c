/* pop3_mbox.c: the mailbox part of tern-pop3d (TRANSACTION and UPDATE
 * states of RFC 1939), run as the user after a good login.
 *
 * Deletions are marks until QUIT; a dropped connection, a timeout or too
 * many errors end the session without touching the Maildir. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/types.h>
#include <skalibs/strerr.h>
#include <skalibs/stralloc.h>
#include "pop3.h"
#include "relay_db.h"

typedef struct session_s session;
struct session_s
{
  pop3_io io;
  pop3_box box;
  unsigned int retrs, deles;
};

/* "+OK " or "-ERR " then text pieces, as one line. */
static int say(session *s, char const *a, char const *b, char const *c)
{
  return pop3_puts(&s->io, a) && pop3_puts(&s->io, b ? b : "")
      && pop3_puts(&s->io, c ? c : "") && pop3_put(&s->io, "\r\n", 2);
}

/* The message numbered by arg, if it exists and is not deleted. */
static pop3_msg *lookup(session *s, char const *arg)
{
  unsigned int n;
  pop3_msg *m;
  if (!pop3_number(arg, &n) || !n || n > pop3_box_n(&s->box)) return 0;
  m = pop3_box_msg(&s->box, n - 1);
  return m->deleted ? 0 : m;
}

static int do_stat(session *s)
{
  char a[UINT_FMT], b[UINT64_FMT];
  unsigned int n = 0;
  uint64_t total = 0;
  size_t i;
  for (i = 0; i < pop3_box_n(&s->box); i++)
  {
    pop3_msg *m = pop3_box_msg(&s->box, i);
    if (!m->deleted) { n++; total += m->size; }
  }
  a[uint_fmt(a, n)] = 0;
  b[uint64_fmt(b, total)] = 0;
  return pop3_puts(&s->io, "+OK ") && pop3_puts(&s->io, a) && say(s, " ", b, 0);
}

/* One line of a LIST or UIDL answer: "N SIZE" or "N UID". */
static int list_line(session *s, size_t i, int uidl, char const *prefix)
{
  pop3_msg *m = pop3_box_msg(&s->box, i);
  char a[UINT_FMT], b[UINT64_FMT];
  a[uint_fmt(a, (unsigned int)i + 1)] = 0;
  b[uint64_fmt(b, m->size)] = 0;
  return pop3_puts(&s->io, prefix) && pop3_puts(&s->io, a) && say(s, " ", uidl ? m->uid : b, 0);
}

static int do_list(session *s, int argc, char **args, int uidl)
{
  size_t i;
  if (argc)
  {
    pop3_msg *m = lookup(s, args[0]);
    if (!m) return say(s, "-ERR no such message", 0, 0) ? 1 : -1;
    return list_line(s, m - pop3_box_msg(&s->box, 0), uidl, "+OK ");
  }
  if (!say(s, "+OK ", uidl ? "unique ids follow" : "scan listing follows", 0)) return -1;
  for (i = 0; i < pop3_box_n(&s->box); i++)
    if (!pop3_box_msg(&s->box, i)->deleted && !list_line(s, i, uidl, "")) return -1;
  return pop3_put(&s->io, ".\r\n", 3);
}

static int do_retr(session *s, char const *arg, uint64_t lines, int top)
{
  pop3_msg *m = lookup(s, arg);
  char b[UINT64_FMT];
  int r;
  if (!m) return say(s, "-ERR no such message", 0, 0) ? 1 : -1;
  if (access(pop3_box_name(&s->box, m), R_OK) < 0)
    return say(s, "-ERR [SYS/TEMP] message unreadable now", 0, 0) ? 0 : -1;
  b[uint64_fmt(b, m->size)] = 0;
  if (!say(s, "+OK ", top ? "top of message follows" : b, top ? 0 : " octets")) return -1;
  r = pop3_msg_send(&s->io, pop3_box_name(&s->box, m), lines);
  if (r < 0) { strerr_warnwusys("read ", pop3_box_name(&s->box, m)); return -1; }
  if (!r) return -1;
  s->retrs += !top;
  return 1;
}

static int do_dele(session *s, char const *arg)
{
  pop3_msg *m = lookup(s, arg);
  if (!m) return say(s, "-ERR no such message", 0, 0) ? 1 : -1;
  m->deleted = 1;
  s->deles++;
  return say(s, "+OK message deleted", 0, 0) ? 1 : -1;
}

static int do_rset(session *s)
{
  size_t i;
  for (i = 0; i < pop3_box_n(&s->box); i++) pop3_box_msg(&s->box, i)->deleted = 0;
  s->deles = 0;
  return say(s, "+OK", 0, 0) ? 1 : -1;
}

static int do_capa(session *s)
{
  return say(s, "+OK capability list follows", 0, 0)
      && pop3_puts(&s->io, "TOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nIMPLEMENTATION tern\r\n.\r\n") ? 1 : -1;
}

/* One command. 1 done, 0 refused (an error counts), -1 hang up, 2 QUIT. */
static int command(session *s, char *line)
{
  char *verb, *args[2];
  unsigned int lines;
  int argc = pop3_split(line, &verb, args, 2, 0);
  if (argc < 0) return say(s, "-ERR syntax error", 0, 0) ? 0 : -1;
  if (!strcmp(verb, "QUIT") && !argc) return 2;
  if (!strcmp(verb, "STAT") && !argc) return do_stat(s) ? 1 : -1;
  if (!strcmp(verb, "LIST") && argc <= 1) return do_list(s, argc, args, 0);
  if (!strcmp(verb, "UIDL") && argc <= 1) return do_list(s, argc, args, 1);
  if (!strcmp(verb, "RETR") && argc == 1) return do_retr(s, args[0], UINT64_MAX, 0);
  if (!strcmp(verb, "TOP") && argc == 2)
  {
    if (!pop3_number(args[1], &lines)) return say(s, "-ERR bad line count", 0, 0) ? 0 : -1;
    return do_retr(s, args[0], lines, 1);
  }
  if (!strcmp(verb, "DELE") && argc == 1) return do_dele(s, args[0]);
  if (!strcmp(verb, "RSET") && !argc) return do_rset(s);
  if (!strcmp(verb, "NOOP") && !argc) return say(s, "+OK", 0, 0) ? 1 : -1;
  if (!strcmp(verb, "CAPA") && !argc) return do_capa(s);
  return say(s, "-ERR unknown command or wrong arguments", 0, 0) ? 0 : -1;
}

/* UPDATE state: remove what was marked, then say goodbye. */
static int quit(session *s)
{
  unsigned int failed = pop3_box_commit(&s->box);
  char n[UINT_FMT], r[UINT_FMT], d[UINT_FMT];
  n[uint_fmt(n, failed)] = 0;
  r[uint_fmt(r, s->retrs)] = 0;
  d[uint_fmt(d, s->deles)] = 0;
  strerr_warni("logout: retrieved ", r, ", deleted ", d, failed ? " (some failed)" : "");
  if (failed) say(s, "-ERR [SYS/TEMP] some deleted messages not removed: ", n, 0);
  else say(s, "+OK bye", 0, 0);
  pop3_flush(&s->io);
  return 0;
}

static int loop(session *s, pop3_limits const *lim)
{
  stralloc line = STRALLOC_ZERO;
  unsigned int errors = 0;
  for (;;)
  {
    int r;
    /* Replies are sent in batches while the client pipelines (RFC 2449). */
    if (!pop3_pending(&s->io) && !pop3_flush(&s->io)) break;
    r = pop3_getline(&s->io, &line, lim->linemax);
    if (r == POP3_LINE_EOF) { strerr_warni("client left without QUIT: nothing deleted"); break; }
    if (r == POP3_LINE_TIMEOUT)
    {
      strerr_warni("timeout or read error: nothing deleted");
      say(s, "-ERR autologout: timeout", 0, 0);
      break;
    }
    if (r == POP3_LINE_LONG) r = say(s, "-ERR line too long", 0, 0) ? 0 : -1;
    else if (r == POP3_LINE_BAD) r = say(s, "-ERR bad characters in command", 0, 0) ? 0 : -1;
    else r = command(s, line.s);
    if (r == 2) { stralloc_free(&line); r = quit(s); pop3_box_free(&s->box); return r; }
    if (r < 0) break;
    if (!r && ++errors >= lim->errors)
    {
      say(s, "-ERR too many errors", 0, 0);
      strerr_warni("too many errors: nothing deleted");
      pop3_hangup(&s->io);
      break;
    }
  }
  pop3_flush(&s->io);
  stralloc_free(&line);
  pop3_box_free(&s->box);
  return 0;
}

int pop3_mbox_run(pop3_limits const *lim, char const *maildir)
{
  session s = { .box = POP3_BOX_ZERO, .retrs = 0, .deles = 0 };
  char n[UINT_FMT];
  /* Nothing is said before the mailbox is open: on failure the auth part
   * answers the PASS with a temporary error. */
  if (chdir(maildir) < 0) strerr_diefusys(111, "chdir to ", maildir);
  if (pop3_box_scan(&s.box, lim->msgs) < 0) strerr_diefusys(111, "read the Maildir ", maildir);
  pop3_io_init(&s.io, 0, 1, 1, lim->timeout);
  n[uint_fmt(n, (unsigned int)pop3_box_n(&s.box))] = 0;
  strerr_warni("login: ", getenv("USER") ? getenv("USER") : "?", " from ",
    getenv("TCPREMOTEIP") ? getenv("TCPREMOTEIP") : "?", ", ", n, " messages in ", maildir);
  if (!say(&s, "+OK ", n, " messages") || !pop3_flush(&s.io)) return 0;
  /* POP-before-SMTP: only now is this a session (the Maildir is open and
   * the client has its +OK), so only now may its address relay. */
  if (getenv(RELAY_GRANT_ENV)) relay_grant();
  return loop(&s, lim);
}
