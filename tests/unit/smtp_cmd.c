/* Unit tests for smtpd/smtp_cmd.c: verbs, MAIL/RCPT arguments and their
 * parameters, malformed input. */
#include "tap.h"
#include "../../smtpd/smtp_cmd.h"

static int verb(char const *line)
{
  smtp_cmd c;
  smtp_cmd_parse(&c, line, strlen(line));
  return c.verb;
}

static char const *mail(smtp_mailargs *m, char const *arg, int rcpt)
{
  return smtp_parse_mailrcpt(m, arg, strlen(arg), rcpt);
}

int main(void)
{
  smtp_mailargs m = SMTP_MAILARGS_ZERO;
  smtp_cmd c;
  char const *e;

  is_int(verb("HELO x"), SMTP_HELO, "HELO");
  is_int(verb("ehlo x"), SMTP_EHLO, "ehlo lowercase");
  is_int(verb("QUIT"), SMTP_QUIT, "QUIT without argument");
  is_int(verb("QUITX"), SMTP_UNKNOWN, "QUITX is not QUIT");
  is_int(verb("QUI"), SMTP_UNKNOWN, "QUI is not QUIT");
  is_int(verb(""), SMTP_UNKNOWN, "empty line");
  is_int(verb(" QUIT"), SMTP_UNKNOWN, "leading blank");
  is_int(verb("MAIL\tFROM:<a@b>"), SMTP_UNKNOWN, "tab after the verb is not a separator");
  is_int(verb("STARTTLS"), SMTP_STARTTLS, "STARTTLS recognised (for the TLS layer)");
  smtp_cmd_parse(&c, "HELO   host.test  ", 18);
  ok(c.arglen == 9 && !memcmp(c.arg, "host.test", 9), "argument trimmed of blanks");
  smtp_cmd_parse(&c, "NOOP", 4);
  is_int(c.arglen, 0, "no argument");

  ok(!mail(&m, "FROM:<a@b.test>", 0), "MAIL FROM");
  is_str(m.a.s.s, "a@b.test", "sender");
  ok(!mail(&m, "from: <a@b.test>", 0), "lowercase keyword, blank after the colon");
  ok(!mail(&m, "FROM:<>", 0) && (m.a.flags & ADDR_NULL), "null sender");
  ok(!mail(&m, "FROM:<a@b.test> SIZE=12345 BODY=8BITMIME", 0) && m.has_size && m.size == 12345 && m.body8, "SIZE and BODY");
  ok(!mail(&m, "FROM:<a@b.test>  size=1", 0) && m.size == 1, "parameters case-insensitive, several blanks");
  e = mail(&m, "FROM:<a@b.test> SIZE=", 0);
  ok(e && !strncmp(e, "501", 3), "SIZE= empty: 501");
  e = mail(&m, "FROM:<a@b.test> SIZE=12x", 0);
  ok(e && !strncmp(e, "501", 3), "SIZE not a number: 501");
  e = mail(&m, "FROM:<a@b.test> SIZE=99999999999999999999999", 0);
  ok(e && !strncmp(e, "501", 3), "SIZE overflowing: 501");
  e = mail(&m, "FROM:<a@b.test> SIZE=1 SIZE=2", 0);
  ok(e && !strncmp(e, "501", 3), "SIZE twice: 501");
  e = mail(&m, "FROM:<a@b.test> BODY=BINARYMIME", 0);
  ok(e && !strncmp(e, "501", 3), "BODY=BINARYMIME: 501");
  e = mail(&m, "FROM:<a@b.test> MT-PRIORITY=3", 0);
  ok(e && !strncmp(e, "555", 3), "unknown parameter: 555");
  e = mail(&m, "FROM:<a@b.test>SIZE=1", 0);
  ok(e && !strncmp(e, "501 5.1.7", 9), "parameter glued to the path: 501");
  e = mail(&m, "FROM:a@b.test", 0);
  ok(e && !strncmp(e, "501 5.1.7", 9), "no angle brackets: 501 5.1.7");
  e = mail(&m, "TO:<a@b.test>", 0);
  ok(e && !strncmp(e, "501 5.5.2", 9), "MAIL TO: 501 5.5.2");
  e = mail(&m, "FROM", 0);
  ok(e && !strncmp(e, "501 5.5.2", 9), "MAIL FROM without colon");
  e = mail(&m, "", 0);
  ok(e && !strncmp(e, "501", 3), "MAIL without argument");
  e = mail(&m, "FROM:<a@b_c.test>", 0);
  ok(e && !strncmp(e, "501 5.1.7", 9), "bad sender domain: 5.1.7");

  ok(!mail(&m, "TO:<u@tern.test>", 1), "RCPT TO");
  e = mail(&m, "TO:<>", 1);
  ok(e && !strncmp(e, "501 5.1.3", 9), "empty recipient: 501 5.1.3");
  e = mail(&m, "TO:<u@tern.test> FOO=BAR", 1);
  ok(e && !strncmp(e, "555", 3), "unknown RCPT parameter: 555");

  /* DSN (RFC 3461) */
  ok(!mail(&m, "TO:<u@tern.test> notify=success,Delay ORCPT=rfc822;u+40tern.test", 1), "NOTIFY and ORCPT");
  is_str(m.dsn, "NOTIFY=SUCCESS,DELAY ORCPT=rfc822;u+40tern.test", "the N record, keywords upper case");
  ok(!mail(&m, "TO:<u@tern.test>", 1) && !m.dsn[0], "no DSN parameters: empty record");
  ok(!mail(&m, "TO:<u@tern.test> NOTIFY=NEVER", 1), "NOTIFY=NEVER");
  e = mail(&m, "TO:<u@tern.test> NOTIFY=NEVER,SUCCESS", 1);
  ok(e && !strncmp(e, "501 5.5.4", 9), "NEVER with another value refused");
  e = mail(&m, "TO:<u@tern.test> NOTIFY=SUCCESS,SUCCESS", 1);
  ok(e && !strncmp(e, "501", 3), "a value twice refused");
  e = mail(&m, "TO:<u@tern.test> NOTIFY=SUCCESS,", 1);
  ok(e && !strncmp(e, "501", 3), "empty value refused");
  e = mail(&m, "TO:<u@tern.test> NOTIFY=", 1);
  ok(e && !strncmp(e, "501", 3), "empty NOTIFY refused");
  e = mail(&m, "TO:<u@tern.test> NOTIFY=FAILURE NOTIFY=DELAY", 1);
  ok(e && !strncmp(e, "501", 3), "NOTIFY twice refused");
  e = mail(&m, "TO:<u@tern.test> ORCPT=rfc822;a=b", 1);
  ok(e && !strncmp(e, "501", 3), "ORCPT not xtext refused");
  e = mail(&m, "TO:<u@tern.test> ORCPT=rfc822;a+4", 1);
  ok(e && !strncmp(e, "501", 3), "ORCPT with a cut hex escape refused");
  e = mail(&m, "TO:<u@tern.test> ORCPT=u@tern.test", 1);
  ok(e && !strncmp(e, "501", 3), "ORCPT without type refused");
  {
    char big[700];
    memcpy(big, "TO:<u@t.test> ORCPT=rfc822;", 27);
    memset(big + 27, 'a', 600);
    big[627] = 0;
    e = mail(&m, big, 1);
    ok(e && !strncmp(e, "501", 3), "ORCPT over 500 bytes refused");
  }
  e = mail(&m, "FROM:<a@b.test> NOTIFY=NEVER", 0);
  ok(e && !strncmp(e, "555", 3), "NOTIFY on MAIL: 555");
  ok(!mail(&m, "FROM:<a@b.test> ret=hdrs ENVID=QQ+2B1 SIZE=10", 0), "RET and ENVID");
  is_str(m.dsn, "RET=HDRS ENVID=QQ+2B1", "the M record");
  e = mail(&m, "FROM:<a@b.test> RET=BODY", 0);
  ok(e && !strncmp(e, "501", 3), "bad RET refused");
  e = mail(&m, "FROM:<a@b.test> ENVID=a\x01b", 0);
  ok(e && !strncmp(e, "501", 3), "ENVID with a control refused");
  e = mail(&m, "FROM:<a@b.test> ENVID=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0);
  ok(e && !strncmp(e, "501", 3), "ENVID over 100 bytes refused");
  e = mail(&m, "FROM:<a@b.test> RET=FULL RET=FULL", 0);
  ok(e && !strncmp(e, "501", 3), "RET twice refused");
  e = mail(&m, "TO:<u@-bad.test>", 1);
  ok(e && !strncmp(e, "501 5.1.2", 9), "bad recipient domain: 5.1.2");
  e = mail(&m, "FROM:<u@tern.test>", 1);
  ok(e && !strncmp(e, "501 5.5.2", 9), "RCPT FROM: syntax");
  addr_free(&m.a);
  return done_testing();
}
