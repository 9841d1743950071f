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
      char const *e = rcpt ? "555 5.5.4 Unsupported RCPT parameter" : mail_param(m, arg + i, j - i);
      if (e) return e;
    }
    i = j;
  }
  return 0;
}
