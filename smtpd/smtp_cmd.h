/* smtp_cmd.h: parsing one SMTP command line (without its CRLF) into a verb
 * and arguments; MAIL/RCPT paths and their ESMTP parameters. Pure functions:
 * the unit tests drive them directly. */
#ifndef TERN_SMTP_CMD_H
#define TERN_SMTP_CMD_H

#include <stddef.h>
#include <stdint.h>
#include "addr.h"
#include "dsn.h"

enum smtp_verb
{
  SMTP_UNKNOWN, SMTP_HELO, SMTP_EHLO, SMTP_MAIL, SMTP_RCPT, SMTP_DATA,
  SMTP_RSET, SMTP_NOOP, SMTP_QUIT, SMTP_VRFY, SMTP_HELP, SMTP_EXPN,
  SMTP_STARTTLS, SMTP_AUTH, SMTP_BDAT, SMTP_TURN, SMTP_ETRN
};

typedef struct smtp_cmd_s smtp_cmd;
struct smtp_cmd_s
{
  int verb;
  char const *arg;   /* after the verb and its blanks, trailing blanks cut */
  size_t arglen;
};

/* Splits line (len bytes, no CRLF) into verb and argument. */
extern void smtp_cmd_parse(smtp_cmd *c, char const *line, size_t len);

typedef struct smtp_mailargs_s smtp_mailargs;
struct smtp_mailargs_s
{
  addr a;
  uint64_t size;     /* SIZE=, 0 when absent */
  int has_size;
  int body8;         /* BODY=8BITMIME */
  /* DSN (RFC 3461): RET and ENVID of MAIL, NOTIFY and ORCPT of RCPT, in
   * the form of an envelope M or N record (lib/dsn.h); "" when none */
  char dsn[DSN_PARAMS_MAX + 1];
  size_t dsnlen;
  unsigned int dsnseen;   /* which of them were given (twice is an error) */
};
#define SMTP_MAILARGS_ZERO { .a = ADDR_ZERO, .size = 0, .has_size = 0, .body8 = 0, .dsnlen = 0, .dsnseen = 0 }

/* Parses the argument of MAIL ("FROM:<path> params") or, with rcpt, of RCPT
 * ("TO:<path> params"); the DSN parameters land in m->dsn. Returns 0 when it parses, else the SMTP reply to send
 * (a static string, no CRLF). */
extern char const *smtp_parse_mailrcpt(smtp_mailargs *m, char const *arg, size_t n, int rcpt);

#endif
