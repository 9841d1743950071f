/* smtp_cmd.c: the SMTP command parser (verbs, MAIL/RCPT arguments). */
#include <string.h>
#include <strings.h>
#include "smtp_cmd.h"

static struct { char const *name; int verb; } const verbs[] =
{
  { "HELO", SMTP_HELO }, { "EHLO", SMTP_EHLO }, { "MAIL", SMTP_MAIL },
  { "RCPT", SMTP_RCPT }, { "DATA", SMTP_DATA }, { "RSET", SMTP_RSET },
  { "NOOP", SMTP_NOOP }, { "QUIT", SMTP_QUIT }, { "VRFY", SMTP_VRFY },
  { "HELP", SMTP_HELP }, { "EXPN", SMTP_EXPN }, { "STARTTLS", SMTP_STARTTLS },
  { "AUTH", SMTP_AUTH }, { "BDAT", SMTP_BDAT }, { "TURN", SMTP_TURN },
  { "ETRN", SMTP_ETRN },
};

void smtp_cmd_parse(smtp_cmd *c, char const *line, size_t len)
{
  size_t v = 0, i;
  while (v < len && line[v] != ' ') v++;
  c->verb = SMTP_UNKNOWN;
  for (i = 0; i < sizeof verbs / sizeof *verbs; i++)
    if (strlen(verbs[i].name) == v && !strncasecmp(line, verbs[i].name, v))
    {
      c->verb = verbs[i].verb;
      break;
    }
  while (v < len && line[v] == ' ') v++;
  while (len > v && (line[len-1] == ' ' || line[len-1] == '\t')) len--;
  c->arg = line + v;
  c->arglen = len - v;
}

static int scan_size(char const *s, size_t n, uint64_t *u)
{
  size_t i;
  uint64_t x = 0;
  if (!n || n > 19) return 0;
  for (i = 0; i < n; i++)
  {
    if (s[i] < '0' || s[i] > '9') return 0;
    x = x * 10 + (uint64_t)(s[i] - '0');
  }
  *u = x;
  return 1;
}

/* One ESMTP parameter of MAIL: SIZE=n or BODY=7BIT|8BITMIME. */
static char const *mail_param(smtp_mailargs *m, char const *p, size_t n)
{
  size_t eq = 0;
  while (eq < n && p[eq] != '=') eq++;
  if (eq == 4 && !strncasecmp(p, "SIZE", 4))
  {
    if (m->has_size) return "501 5.5.4 SIZE given twice";
    if (eq == n || !scan_size(p + 5, n - 5, &m->size)) return "501 5.5.4 SIZE needs a decimal number";
    m->has_size = 1;
    return 0;
  }
  if (eq == 4 && !strncasecmp(p, "BODY", 4) && eq < n)
  {
    if (n - 5 == 4 && !strncasecmp(p + 5, "7BIT", 4)) { m->body8 = 0; return 0; }
    if (n - 5 == 8 && !strncasecmp(p + 5, "8BITMIME", 8)) { m->body8 = 1; return 0; }
    return "501 5.5.4 BODY must be 7BIT or 8BITMIME";
  }
  return "555 5.5.4 Unsupported MAIL parameter";
}

/* Appends "KEY=value" to the DSN record of m (checked to fit). */
static void dsn_add(smtp_mailargs *m, char const *key, char const *v, size_t n)
{
  size_t k = strlen(key);
  if (m->dsnlen) m->dsn[m->dsnlen++] = ' ';
  memcpy(m->dsn + m->dsnlen, key, k);
  m->dsnlen += k;
  m->dsn[m->dsnlen++] = '=';
  memcpy(m->dsn + m->dsnlen, v, n);
  m->dsnlen += n;
  m->dsn[m->dsnlen] = 0;
}

#define SEEN_RET 1
#define SEEN_ENVID 2
#define SEEN_NOTIFY 4
#define SEEN_ORCPT 8

/* NOTIFY=NEVER, or a list of SUCCESS, FAILURE, DELAY (RFC 3461 4.1),
 * upper-cased into m->dsn. */
static char const *dsn_notify_param(smtp_mailargs *m, char const *v, size_t n)
{
  char buf[32];
  size_t i = 0, len = 0;
  unsigned int f = 0;
  while (i <= n)
  {
    size_t w = i;
    unsigned int bit;
    while (w < n && v[w] != ',') w++;
    if (w - i == 7 && !strncasecmp(v + i, "SUCCESS", 7)) bit = DSN_NOTIFY_SUCCESS;
    else if (w - i == 5 && !strncasecmp(v + i, "DELAY", 5)) bit = DSN_NOTIFY_DELAY;
    else if (w - i == 7 && !strncasecmp(v + i, "FAILURE", 7)) bit = DSN_NOTIFY_FAILURE;
    else if (w - i == 5 && !strncasecmp(v + i, "NEVER", 5)) bit = DSN_NOTIFY_NEVER;
    else return "501 5.5.4 NOTIFY must be NEVER or a list of SUCCESS, FAILURE, DELAY";
    if (f & bit) return "501 5.5.4 NOTIFY names a value twice";
    f |= bit;
    if (len) buf[len++] = ',';
    for (; i < w; i++) buf[len++] = v[i] >= 'a' && v[i] <= 'z' ? v[i] - 32 : v[i];
    i = w + 1;
  }
  if ((f & DSN_NOTIFY_NEVER) && f != DSN_NOTIFY_NEVER) return "501 5.5.4 NOTIFY=NEVER cannot be combined with other values";
  dsn_add(m, "NOTIFY", buf, len);
  return 0;
}

/* ORCPT=addr-type;xtext (RFC 3461 4.2): kept as given. */
static char const *dsn_orcpt_param(smtp_mailargs *m, char const *v, size_t n)
{
  size_t t = 0, i;
  while (t < n && v[t] != ';') t++;
  if (!t || t == n || n > DSN_ORCPT_MAX) return "501 5.5.4 ORCPT must be addr-type;address in xtext, at most 500 bytes";
  for (i = 0; i < t; i++)
    if (!((v[i] >= 'A' && v[i] <= 'Z') || (v[i] >= 'a' && v[i] <= 'z') || (v[i] >= '0' && v[i] <= '9') || (i && v[i] == '-')))
      return "501 5.5.4 ORCPT address type must be an atom such as rfc822";
  if (!dsn_xtext_ok(v + t + 1, n - t - 1)) return "501 5.5.4 ORCPT address must be xtext";
  dsn_add(m, "ORCPT", v, n);
  return 0;
}

/* RET, ENVID (MAIL) or NOTIFY, ORCPT (RCPT). 0 ok, a reply, or "" when
 * name is not a DSN parameter of this command. */
static char const *dsn_param_parse(smtp_mailargs *m, char const *p, size_t n, size_t eq, int rcpt)
{
  static struct { char const *name; unsigned int bit; int rcpt; } const keys[] =
  { { "RET", SEEN_RET, 0 }, { "ENVID", SEEN_ENVID, 0 }, { "NOTIFY", SEEN_NOTIFY, 1 }, { "ORCPT", SEEN_ORCPT, 1 } };
  char const *v = p + eq + 1;
  size_t vn = n - eq - 1, k;
  for (k = 0; k < 4; k++)
    if (keys[k].rcpt == rcpt && strlen(keys[k].name) == eq && !strncasecmp(p, keys[k].name, eq)) break;
  if (k == 4 || eq == n) return "";
  if (m->dsnseen & keys[k].bit) return "501 5.5.4 DSN parameter given twice";
  m->dsnseen |= keys[k].bit;
  switch (keys[k].bit)
  {
    case SEEN_RET:
      if (vn == 4 && !strncasecmp(v, "FULL", 4)) { dsn_add(m, "RET", "FULL", 4); return 0; }
      if (vn == 4 && !strncasecmp(v, "HDRS", 4)) { dsn_add(m, "RET", "HDRS", 4); return 0; }
      return "501 5.5.4 RET must be FULL or HDRS";
    case SEEN_ENVID:
      if (vn > DSN_ENVID_MAX || !dsn_xtext_ok(v, vn)) return "501 5.5.4 ENVID must be xtext of at most 100 bytes";
      dsn_add(m, "ENVID", v, vn);
      return 0;
    case SEEN_NOTIFY: return dsn_notify_param(m, v, vn);
    default: return dsn_orcpt_param(m, v, vn);
  }
}

static char const *addr_reply(int r, int rcpt)
{
  switch (r)
  {
    case ADDR_ELONG: return rcpt ? "501 5.1.3 Recipient address too long" : "501 5.1.7 Sender address too long";
    case ADDR_EDOMAIN: return rcpt ? "501 5.1.2 Invalid domain in recipient address" : "501 5.1.7 Invalid domain in sender address";
    case ADDR_ENOMEM: return "451 4.3.0 Out of memory; try again later";
    default: return rcpt ? "501 5.1.3 Bad recipient address syntax; use RCPT TO:<user@domain>" : "501 5.1.7 Bad sender address syntax; use MAIL FROM:<user@domain>";
  }
}

char const *smtp_parse_mailrcpt(smtp_mailargs *m, char const *arg, size_t n, int rcpt)
{
  char const *kw = rcpt ? "TO:" : "FROM:";
  size_t k = strlen(kw), i, used;
  int r;
  m->size = 0; m->has_size = 0; m->body8 = 0;
  m->dsn[0] = 0; m->dsnlen = 0; m->dsnseen = 0;
  if (n < k || strncasecmp(arg, kw, k))
    return rcpt ? "501 5.5.2 Syntax: RCPT TO:<address>" : "501 5.5.2 Syntax: MAIL FROM:<address>";
  i = k;
  while (i < n && arg[i] == ' ') i++;
  r = addr_parse_path(&m->a, arg + i, n - i, &used);
  if (r) return addr_reply(r, rcpt);
  if (rcpt && (m->a.flags & ADDR_NULL)) return "501 5.1.3 A recipient address cannot be empty";
  i += used;
  while (i < n)
  {
    size_t j;
    if (arg[i] != ' ') return addr_reply(ADDR_ESYNTAX, rcpt);
    while (i < n && arg[i] == ' ') i++;
    for (j = i; j < n && arg[j] != ' '; j++) ;
    if (j > i)
    {
      size_t eq = i;
      char const *e;
      while (eq < j && arg[eq] != '=') eq++;
      e = dsn_param_parse(m, arg + i, j - i, eq - i, rcpt);
      if (e && !*e) e = rcpt ? "555 5.5.4 Unsupported RCPT parameter" : mail_param(m, arg + i, j - i);
      if (e) return e;
    }
    i = j;
  }
  return 0;
}
