/* smtp_auth.c: tern-smtpd's AUTH verb (RFC 4954): PLAIN and LOGIN over a checkpassword program. */
#include <string.h>
#include <strings.h>
#include <skalibs/iopause.h>
#include <skalibs/tai.h>
#include "b64.h"
#include "smtp_auth.h"
#include "smtp_check.h"
#include "smtp_log.h"

/* Longest client response line, with CRLF: a 512-byte PLAIN blob is 684. */
#define AUTH_LINE_MAX 2048
/* Seconds a checkpassword program may take. */
#define AUTH_CHECK_TIMEOUT 60

/* One AUTH command: what the exchange needs, and the SMTP_R_* flags so far. */
typedef struct exchange_s exchange;
struct exchange_s
{
  smtp_auth *a;
  smtp_io *io;
  smtp_conn const *cn;
  stralloc line;      /* the client's response lines */
  int r;
};

/* A client error, counted towards maxerrors by the session. */
static void error(exchange *x, char const *reply)
{
  smtp_io_reply(x->io, reply);
  x->r |= SMTP_R_ERROR;
}

/* Cleans a user name for log lines and headers: printable, no blanks. */
static void cat_printable(stralloc *sa, char const *s, size_t max)
{
  size_t i;
  for (i = 0; s[i] && i < max; i++)
  {
    char c = s[i] > 32 && s[i] < 127 && s[i] != '(' && s[i] != ')' && s[i] != ';' ? s[i] : '?';
    stralloc_catb(sa, &c, 1);
  }
}

static void auth_log(smtp_conn const *cn, char const *mech, char const *user, char const *result)
{
  stralloc u = STRALLOC_ZERO;
  cat_printable(&u, user, 256);
  if (stralloc_0(&u))
  {
    char const *v[8] = { " ip=", cn->remoteip, " auth=", mech, " user=", u.s, " result=", result };
    smtp_log(v, 8);
  }
  stralloc_free(&u);
}

/* Reads one base64 response line into raw (decoded). 1 ok; 0 the session
 * or the exchange is over (a reply was sent, or the client went away). */
static int response(exchange *x, stralloc *raw)
{
  int r = smtp_io_getline(x->io, &x->line, AUTH_LINE_MAX);
  raw->len = 0;
  if (r == SMTP_LINE_TIMEOUT) smtp_io_reply(x->io, "421 4.4.2 Timeout during AUTH; closing connection");
  if (r != SMTP_LINE_OK) { x->r |= SMTP_R_QUIT; return 0; }
  if (x->line.len == 1 && x->line.s[0] == '*') { error(x, "501 5.7.0 Authentication cancelled"); return 0; }
  if (!b64_decode(raw, x->line.s, x->line.len)) { error(x, "501 5.5.2 Malformed base64 data"); return 0; }
  return 1;
}

/* The initial response or, without one, a 334 challenge and the answer. */
static int first(exchange *x, char const *ir, size_t irlen, char const *challenge, stralloc *raw)
{
  raw->len = 0;
  if (!irlen)
  {
    smtp_io_reply(x->io, challenge);
    return response(x, raw);
  }
  if (irlen == 1 && ir[0] == '=') return 1;  /* an empty initial response */
  if (!b64_decode(raw, ir, irlen)) { error(x, "501 5.5.2 Malformed base64 data"); return 0; }
  return 1;
}

/* PLAIN: authzid\0authcid\0password. Fills user and pass (NUL-ended). */
static int plain(exchange *x, char const *ir, size_t irlen, stralloc *user, stralloc *pass)
{
  stralloc raw = STRALLOC_ZERO;
  char const *z1, *z2;
  int ok = 0;
  if (!first(x, ir, irlen, "334 ", &raw)) goto end;
  z1 = memchr(raw.s, 0, raw.len);
  z2 = z1 ? memchr(z1 + 1, 0, raw.len - (size_t)(z1 + 1 - raw.s)) : 0;
  if (!z2 || memchr(z2 + 1, 0, raw.len - (size_t)(z2 + 1 - raw.s)))
  { error(x, "501 5.5.2 PLAIN wants authzid NUL user NUL password"); goto end; }
  /* Acting for someone else is not offered. */
  if (z1 != raw.s && ((size_t)(z2 - z1 - 1) != (size_t)(z1 - raw.s) || memcmp(raw.s, z1 + 1, (size_t)(z1 - raw.s))))
  { ok = -1; goto end; }
  ok = stralloc_catb(user, z1 + 1, (size_t)(z2 - z1 - 1)) && stralloc_0(user)
    && stralloc_catb(pass, z2 + 1, raw.len - (size_t)(z2 + 1 - raw.s)) && stralloc_0(pass);
 end:
  if (raw.s) explicit_bzero(raw.s, raw.a);
  stralloc_free(&raw);
  return ok;
}

/* LOGIN: "Username:" then "Password:", each answered in base64. */
static int login(exchange *x, char const *ir, size_t irlen, stralloc *user, stralloc *pass)
{
  if (!first(x, ir, irlen, "334 VXNlcm5hbWU6", user)) return 0;
  smtp_io_reply(x->io, "334 UGFzc3dvcmQ6");
  if (!response(x, pass)) return 0;
  if (memchr(user->s, 0, user->len) || memchr(pass->s, 0, pass->len))
  { error(x, "501 5.5.2 NUL in a user name or password"); return 0; }
  return stralloc_0(user) && stralloc_0(pass);
}

/* Bad credentials: wait longer after each failure, then maybe hang up. */
static void failed(exchange *x, char const *mech, char const *user)
{
  smtp_auth *a = x->a;
  tain until, d;
  a->failures++;
  auth_log(x->cn, mech, user, "535");
  tain_now_g();
  tain_from_millisecs(&d, (int)(x->cn->conf->authfaildelay * a->failures));
  tain_add_g(&until, &d);
  smtp_io_flush(x->io);
  deepsleepuntil_g(&until);
  smtp_io_reply(x->io, "535 5.7.8 Authentication credentials invalid");
  if (a->failures >= x->cn->conf->authmaxfail)
  {
    smtp_io_reply(x->io, "421 4.7.0 Too many authentication failures; closing connection");
    x->r |= SMTP_R_QUIT;
  }
}

/* Checks the state before any exchange. 1 go on, 0 a reply was sent. */
static int may_auth(exchange *x, smtp_cmd const *c)
{
  smtp_auth const *a = x->a;
  smtp_conn const *cn = x->cn;
  if (!a || !a->checkprog) { error(x, "502 5.5.1 AUTH is not available on this port"); return 0; }
  if (cn->authuser) { error(x, "503 5.5.1 Already authenticated"); return 0; }
  if (cn->state == SMTP_ST_START) { error(x, "503 5.5.1 Send EHLO first"); return 0; }
  if (cn->state >= SMTP_ST_MAIL) { error(x, "503 5.5.1 AUTH is not allowed during a mail transaction"); return 0; }
  if (!cn->tls && !a->plaintext)
  { error(x, "538 5.7.11 Encryption required for requested authentication mechanism: use STARTTLS first"); return 0; }
  if (!c->arglen) { error(x, "501 5.5.4 Syntax: AUTH mechanism [initial-response]"); return 0; }
  return 1;
}

void smtp_auth_init(smtp_auth *a)
{
  a->failures = 0;
  a->user.len = 0;
}

char const *smtp_auth_keyword(smtp_auth const *a, int tls)
{
  return a && a->checkprog && (tls || a->plaintext) ? "AUTH PLAIN LOGIN" : 0;
}

/* The exchange once the mechanism is known: the login checked, the reply given. */
static void run(exchange *x, smtp_cmd const *c)
{
  stralloc user = STRALLOC_ZERO, pass = STRALLOC_ZERO;
  smtp_auth *a = x->a;
  size_t mlen = 0, i;
  char const *mech;
  int r;
  while (mlen < c->arglen && c->arg[mlen] != ' ') mlen++;
  for (i = mlen; i < c->arglen && c->arg[i] == ' '; i++) ;
  /* The initial response (c->arg + i) lives in the session's line; the
   * exchange reads into its own. */
  if (mlen == 5 && !strncasecmp(c->arg, "PLAIN", 5)) { mech = "PLAIN"; r = plain(x, c->arg + i, c->arglen - i, &user, &pass); }
  else if (mlen == 5 && !strncasecmp(c->arg, "LOGIN", 5)) { mech = "LOGIN"; r = login(x, c->arg + i, c->arglen - i, &user, &pass); }
  else { error(x, "504 5.5.4 Unrecognized authentication type: use PLAIN or LOGIN"); return; }
  if (r < 0) failed(x, mech, "(authzid differs)");
  else if (r)
  {
    switch (smtp_auth_check(a->checkprog, user.s, pass.s, AUTH_CHECK_TIMEOUT))
    {
      case 0:
        a->user.len = 0;
        cat_printable(&a->user, user.s, 256);
        if (!stralloc_0(&a->user)) { smtp_io_reply(x->io, "454 4.7.0 Temporary authentication failure"); break; }
        x->r |= SMTP_R_AUTH;
        auth_log(x->cn, mech, user.s, "235");
        smtp_io_reply(x->io, "235 2.7.0 Authentication successful");
        break;
      case 1: failed(x, mech, user.s); break;
      default:
        auth_log(x->cn, mech, user.s, "454 (the checkpassword program failed)");
        smtp_io_reply(x->io, "454 4.7.0 Temporary authentication failure; try again later");
    }
  }
  if (pass.s) explicit_bzero(pass.s, pass.a);
  stralloc_free(&pass);
  stralloc_free(&user);
}

int smtp_auth_command(smtp_auth *a, smtp_io *io, smtp_conn const *cn, smtp_cmd const *c)
{
  exchange x = { .a = a, .io = io, .cn = cn, .line = STRALLOC_ZERO, .r = 0 };
  if (may_auth(&x, c)) run(&x, c);
  /* the response lines may hold a password in base64 */
  if (x.line.s) explicit_bzero(x.line.s, x.line.a);
  stralloc_free(&x.line);
  return x.r;
}

int smtp_auth_mail(smtp_auth const *a, smtp_io *io, smtp_conn const *cn)
{
  if (!a || !a->submission || cn->authuser) return 0;
  smtp_io_reply(io, "530 5.7.0 Authentication required: this is the submission port");
  return SMTP_R_ERROR;
}
