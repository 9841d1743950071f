/* pop3_auth.c: the auth part of tern-pop3d (AUTHORIZATION state of RFC
 * 1939): greeting, CAPA, STLS, USER, PASS, QUIT; each PASS runs the
 * checkpassword program, which runs the mailbox part on success.
 *
 * SECURITY: input is read one byte at a time, so nothing after the STLS or
 * PASS line is consumed here: the TLS engine sees the ClientHello (and no
 * plaintext injected before it is ever answered), and the mailbox part reads
 * the client's next command itself. The password lives in one buffer,
 * cleared after it is handed over on fd 3. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include <skalibs/types.h>
#include <skalibs/strerr.h>
#include <skalibs/stralloc.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/exec.h>
#include <skalibs/sig.h>
#include <skalibs/tai.h>
#include <skalibs/iopause.h>
#include "control.h"
#include "pop3.h"
#include "relay_db.h"

typedef struct auth_s auth;
struct auth_s
{
  pop3_authopts const *o;
  pop3_io io;
  stralloc user;        /* NUL-terminated; len 0: no USER yet */
  stralloc stamp;       /* the greeting's <pid.time@host> */
  unsigned int errors, fails;
};

/* The user name for a log line: printable ASCII only. */
static void log_user(char *out, size_t max, char const *u)
{
  size_t i;
  for (i = 0; u[i] && i + 1 < max; i++)
    out[i] = (u[i] > 0x20 && u[i] < 0x7f) ? u[i] : '?';
  out[i] = 0;
}

/* "USER from IP" for log lines, printable only. */
static void log_who(char *out, size_t max, char const *u)
{
  char const *ip = getenv("TCPREMOTEIP");
  size_t n;
  log_user(out, max, u);
  n = strlen(out);
  if (ip && n + 7 < max)
  {
    memcpy(out + n, " from ", 6);
    log_user(out + n + 6, max - n - 6, ip);
  }
}

static int make_stamp(stralloc *sa)
{
  stralloc me = STRALLOC_ZERO;
  char pid[PID_FMT], t[ULONG_FMT];
  int ok;
  pid[pid_fmt(pid, getpid())] = 0;
  t[ulong_fmt(t, (unsigned long)time(0))] = 0;
  if (control_readline(&me, "me") <= 0 || me.len <= 1) { me.len = 0; stralloc_cats(&me, "localhost"); stralloc_0(&me); }
  ok = stralloc_copys(sa, "<") && stralloc_cats(sa, pid) && stralloc_cats(sa, ".")
    && stralloc_cats(sa, t) && stralloc_cats(sa, "@") && stralloc_cats(sa, me.s)
    && stralloc_cats(sa, ">") && stralloc_0(sa);
  stralloc_free(&me);
  return ok;
}

static int plain_ok(auth const *a)
{
  return a->o->plaintext || pop3_tls_on();
}

static int capa(auth *a)
{
  return pop3_puts(&a->io, "+OK capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n")
      && (!plain_ok(a) || pop3_puts(&a->io, "USER\r\n"))
      && (!pop3_tls_can() || pop3_puts(&a->io, "STLS\r\n"))
      && pop3_reply(&a->io, "IMPLEMENTATION tern\r\n.");
}

/* The child: fd 3 reads user\0pass\0stamp\0; fds 0 and 1 blocking again,
 * as programs of the checkpassword chain expect. */
static void child(auth *a, int *p)
{
  fd_close(p[1]);
  if (p[0] != 3 && fd_move(3, p[0]) < 0) _exit(111);
  if (uncoe(3) < 0) _exit(111);
  ndelay_off(0);
  ndelay_off(1);
  sig_restore(SIGPIPE);
  /* Only a tern-relayallow after a good login may ask for the grant. */
  unsetenv(RELAY_GRANT_ENV);
  exec(a->o->cp);
  strerr_warnwusys("exec ", a->o->cp[0]);
  _exit(111);
}

/* Runs the checkpassword chain: its exit status (-1 if it died oddly). */
static int check(auth *a, char *pass)
{
  int p[2], wstat;
  pid_t pid;
  stralloc data = STRALLOC_ZERO;
  if (pipe(p) < 0) return 111;
  pid = fork();
  if (pid < 0) { fd_close(p[0]); fd_close(p[1]); return 111; }
  if (!pid) child(a, p);
  fd_close(p[0]);
  if (stralloc_catb(&data, a->user.s, a->user.len) && stralloc_cats(&data, pass) && stralloc_0(&data)
   && stralloc_catb(&data, a->stamp.s, a->stamp.len))
    allwrite(p[1], data.s, data.len);
  fd_close(p[1]);
  memset(pass, 0, strlen(pass));
  if (data.s) memset(data.s, 0, data.len);
  stralloc_free(&data);
  while (waitpid(pid, &wstat, 0) < 0)
    if (errno != EINTR) return 111;
  if (WIFEXITED(wstat)) return WEXITSTATUS(wstat);
  return -1;
}

/* PASS: 1 go on, -1 hang up, 2 the session ran: exit. */
static int pass(auth *a, char *pw)
{
  char who[128];
  int r;
  if (!a->user.len) { a->errors++; return pop3_reply(&a->io, "-ERR USER first") ? 1 : -1; }
  if (!pop3_flush(&a->io)) return -1;
  log_who(who, sizeof who, a->user.s);
  r = check(a, pw);
  a->user.len = 0;
  if (!r) return 2;
  if (r < 0)
  {
    /* The chain died after it may have spoken: nothing sensible to add. */
    strerr_warnw("checkpassword chain for ", who, " killed by a signal");
    return -1;
  }
  a->fails++;
  if (a->o->lim.delay)
  {
    /* Slows password guessing; a guesser on many connections meets
     * tern-tcpserver's per-address limit instead. */
    tain until;
    tain_now_g();
    tain_addsec_g(&until, a->o->lim.delay);
    deepsleepuntil(&until, &STAMP);
  }
  if (r == 1)
  {
    strerr_warni("login failed for ", who);
    if (!pop3_reply(&a->io, "-ERR [AUTH] authentication failed")) return -1;
  }
  else
  {
    char c[INT_FMT];
    c[int_fmt(c, r)] = 0;
    strerr_warnw("checkpassword chain for ", who, " exited ", c);
    if (!pop3_reply(&a->io, "-ERR [SYS/TEMP] mailbox unavailable, try again later")) return -1;
  }
  if (a->fails >= a->o->lim.fails)
  {
    pop3_reply(&a->io, "-ERR too many failed logins");
    pop3_hangup(&a->io);
    return -1;
  }
  return 1;
}

static int stls(auth *a)
{
  if (!pop3_tls_can()) { a->errors++; return pop3_reply(&a->io, "-ERR TLS not available") ? 1 : -1; }
  if (!pop3_reply(&a->io, "+OK begin TLS negotiation")) return -1;
  if (!pop3_tls_start(a->o->lim.timeout)) { strerr_warnw("TLS negotiation failed"); return -1; }
  /* RFC 2595: forget everything said before TLS. */
  pop3_io_init(&a->io, 0, 1, 0, a->o->lim.timeout);
  a->user.len = 0;
  return 1;
}

/* One command line: 1 go on, -1 hang up, 2 done (exit 0). */
static int command(auth *a, char *line)
{
  char *verb, *args[1];
  int ispass = !strncasecmp(line, "PASS ", 5);
  int argc = pop3_split(line, &verb, args, 1, ispass);
  if (argc < 0) { a->errors++; return pop3_reply(&a->io, "-ERR syntax error") ? 1 : -1; }
  if (!strcmp(verb, "QUIT") && !argc) { pop3_reply(&a->io, "+OK bye"); return 2; }
  if (!strcmp(verb, "CAPA") && !argc) return capa(a) ? 1 : -1;
  if (!strcmp(verb, "STLS") && !argc) return stls(a);
  if ((!strcmp(verb, "USER") || ispass) && argc == 1 && !plain_ok(a))
  {
    a->errors++;
    a->user.len = 0;
    return pop3_reply(&a->io, "-ERR [AUTH] USER/PASS need TLS: use STLS first") ? 1 : -1;
  }
  if (!strcmp(verb, "USER") && argc == 1)
  {
    if (!stralloc_copys(&a->user, args[0]) || !stralloc_0(&a->user)) return -1;
    return pop3_reply(&a->io, "+OK send PASS") ? 1 : -1;
  }
  if (ispass && argc == 1) return pass(a, args[0]);
  a->errors++;
  a->user.len = 0;
  return pop3_reply(&a->io, "-ERR unknown command or wrong arguments") ? 1 : -1;
}

static int loop(auth *a)
{
  stralloc line = STRALLOC_ZERO;
  int r = 1;
  while (r == 1)
  {
    int g = pop3_getline(&a->io, &line, a->o->lim.linemax);
    if (g == POP3_LINE_EOF) break;
    if (g == POP3_LINE_TIMEOUT) { pop3_reply(&a->io, "-ERR autologout: timeout"); break; }
    if (g == POP3_LINE_LONG) { a->errors++; r = pop3_reply(&a->io, "-ERR line too long") ? 1 : -1; }
    else if (g == POP3_LINE_BAD) { a->errors++; r = pop3_reply(&a->io, "-ERR bad characters in command") ? 1 : -1; }
    else r = command(a, line.s);
    if (r == 1 && a->errors >= a->o->lim.errors)
    {
      pop3_reply(&a->io, "-ERR too many errors");
      pop3_hangup(&a->io);
      break;
    }
  }
  if (line.s) memset(line.s, 0, line.len);   /* may have held a password */
  stralloc_free(&line);
  return 0;
}

int pop3_auth_run(pop3_authopts const *o)
{
  auth a = { .o = o, .user = STRALLOC_ZERO, .stamp = STRALLOC_ZERO, .errors = 0, .fails = 0 };
  int r;
  sig_ignore(SIGPIPE);
  if (!make_stamp(&a.stamp)) strerr_diefu(111, "make the greeting");
  pop3_io_init(&a.io, 0, 1, 0, o->lim.timeout);
  if (!pop3_puts(&a.io, "+OK tern POP3 server ready ") || !pop3_reply(&a.io, a.stamp.s)) return 0;
  r = loop(&a);
  stralloc_free(&a.user);
  stralloc_free(&a.stamp);
  return r;
}
