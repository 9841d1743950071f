/* qexit.c: tern-queue exit codes to SMTP replies (one table, lib/qexit.h). */
#include "qexit.h"

struct qexit_row { int code; char const *reply; };

static struct qexit_row const rows[] =
{
  { QEXIT_OK, "250 2.0.0 Ok: queued" },
  { QEXIT_ADDR_TOO_LONG, "554 5.1.3 An envelope address is too long for the queue" },
  { QEXIT_REFUSED, "554 5.3.0 The mail system refused this message permanently" },
  { QEXIT_NOMEM, "451 4.3.0 The queue ran out of memory; try again later" },
  { QEXIT_TIMEOUT, "451 4.3.0 The queue timed out; try again later" },
  { QEXIT_WRITE, "451 4.3.1 Queue write error or disk full; try again later" },
  { QEXIT_READ, "451 4.3.0 The queue could not read the message; try again later" },
  { QEXIT_CONFIG, "451 4.3.5 The queue could not read its configuration; try again later" },
  { QEXIT_HOME, "451 4.3.5 Trouble with the mail system's home directory; try again later" },
  { QEXIT_QUEUE, "451 4.3.0 Trouble creating files in the queue; try again later" },
  { QEXIT_TEMPREFUSED, "451 4.3.0 The mail system refused this message for now; try again later" },
  { QEXIT_BUG, "451 4.3.0 Internal error in the queue; try again later" },
  { QEXIT_ENVELOPE, "554 5.5.0 Envelope format error" },
  { QEXIT_EXEC, "451 4.3.0 Unable to run the queue program; try again later" },
  { QEXIT_CRASHED, "451 4.3.0 The queue program crashed; try again later" },
};

int qexit_permanent(int code)
{
  return code >= 11 && code <= 40;
}

char const *qexit_reply(int code)
{
  unsigned int i;
  for (i = 0; i < sizeof rows / sizeof *rows; i++)
    if (rows[i].code == code) return rows[i].reply;
  return qexit_permanent(code)
    ? "554 5.3.0 The mail system refused this message permanently"
    : "451 4.3.0 Temporary queue failure; try again later";
}
