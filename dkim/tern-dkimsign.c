/* tern-dkimsign.c: a content filter in the queue path that DKIM-signs mail from trusted clients.
 *
 * Interface: qmail-queue's (message on fd 0, envelope on fd 1, exit codes
 * of lib/qexit.h); set as $TERNQUEUE. It runs the real queue program
 * ($DKIMQUEUE, else tern-queue beside this program) with the message on its
 * fd 0, a DKIM-Signature field on top when it signs, and our fd 1 as its
 * fd 1: the envelope goes through unread. It signs when the client is
 * trusted ($TERN_AUTHUSER: tern-smtpd after AUTH, tern-inject; or
 * $RELAYCLIENT) and control/dkimdomains has a rule for the domain of the
 * From field; an untrusted client's message goes on by exec, unread.
 * Relaxed/relaxed, the fields of dkim_head.c, t=, no l=. docs/dkim.md.
 * A message from tern-smtpd (a fresh $TERN_QUEUEID) goes instead to the
 * resident queue writer, tern-queued, when $DKIMQUEUE is unset and its
 * socket answers (lib/queuedclient.h): the message, then the envelope read
 * from fd 1 and checked as tern-queue checks it; the writer's answer is
 * our exit code. Otherwise the program runs, as above.
 *
 * SECURITY: runs as its caller (tern-smtpd's user, or whoever ran
 * tern-inject) and holds no key: tern-dkimseal, set-id to the DKIM user,
 * signs the 32-byte header hash. Message bytes go through bounded parsers
 * (dkim_head.c, dkim_from.c, dkim_canon.c); the header section is held in
 * memory up to control/dkimheaderbytes, the body is hashed while copied to
 * an unlinked temporary file. A message that should be signed and cannot
 * be ends with a temporary code: never an unsigned 250. The writer trusts
 * us no more than tern-smtpd (uid, records, envelope, fresh ID: all
 * checked there); a stranger's bytes reach it unparsed. */
#define _GNU_SOURCE   /* O_TMPFILE */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/sig.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "control.h"
#include "qexit.h"
#include "queuedclient.h"
#include "queueid.h"
#include "queuewrite.h"
#include "dkim_canon.h"
#include "dkim_conf.h"
#include "dkim_head.h"
#include "dkim_run.h"
#include "dkim_seal.h"
#include "dkim_sig.h"

#define USAGE "tern-dkimsign (message on fd 0, envelope on fd 1)"
#define HEADER_MAX_DEFAULT 1048576
#define CHUNK 65536
#define TIMEOUT_DEFAULT 1200

typedef struct msg_s msg;
struct msg_s
{
  stralloc in;        /* the header section and whatever came with it */
  size_t hlen;        /* bytes of the header section */
  size_t body;        /* where the body starts in in */
  int eof;            /* fd 0 has ended */
  genalloc fields;    /* of dkim_field */
  char const *id;     /* the queue ID for log lines, or "-" */
  char const *who;    /* why the client is trusted, for log lines */
  unsigned char bh[32];  /* the body hash */
  char const *sock;   /* the queue writer's socket, or 0: the program */
  unsigned int timeout;  /* seconds per read or write to the writer */
  queuedclient w;     /* the writer, when it answered */
};

static stralloc qprog = STRALLOC_ZERO;

static void die(int code, char const *what)
{
  strerr_warnwu(what, errno ? ": " : "", errno ? strerror(errno) : "");
  _exit(code);
}

/* Why we may sign for this client, or 0. The same environment as tern-smtpd
 * made its relay decision with (docs/dkim.md, "Who is trusted"). */
static char const *trusted(stralloc *sa)
{
  char const *u = getenv("TERN_AUTHUSER"), *r = getenv("RELAYCLIENT");
  size_t i;
  if (u && *u)
  {
    /* printable, bounded: it goes into our log line */
    if (!stralloc_cats(sa, "user=")) return 0;
    for (i = 0; u[i] && i < 256; i++)
    {
      char c = u[i] > 32 && u[i] < 127 ? u[i] : '?';
      if (!stralloc_catb(sa, &c, 1)) return 0;
    }
    return stralloc_0(sa) ? sa->s : 0;
  }
  return r ? "relayclient" : 0;
}

static void exec_queue(void)
{
  char const *argv[2] = { qprog.s, 0 };
  sig_restore(SIGPIPE);
  execv(qprog.s, (char *const *)argv);
  die(QEXIT_EXEC, "run the queue program");
}

static char const *queue_id(void)
{
  char const *x = getenv("TERN_QUEUEID");
  return x && queueid_is(x) ? x : "-";
}

/* Reads fd 0 until the header section has ended (or the input has); a
 * section longer than max (0: no limit but control/databytes) is refused. */
static void read_head(msg *m, size_t max)
{
  dkim_hscan st = DKIM_HSCAN_ZERO;
  for (;;)
  {
    ssize_t r;
    int end = dkim_head_end(&st, m->in.s, m->in.len, m->eof, &m->hlen, &m->body);
    if (max && (end ? m->hlen : m->in.len) > max)
    {
      char num[UINT64_FMT];
      num[uint64_fmt(num, max)] = 0;
      strerr_warnw("id=", m->id, " refused: the header section is longer than ", num,
        " bytes (control/dkimheaderbytes)");
      _exit(QEXIT_REFUSED);
    }
    if (end) return;
    if (!stralloc_readyplus(&m->in, CHUNK)) die(QEXIT_NOMEM, "allocate");
    r = fd_read(0, m->in.s + m->in.len, CHUNK);
    if (r < 0) die(QEXIT_READ, "read the message");
    if (!r) m->eof = 1;
    m->in.len += (size_t)r;
  }
}

/* An unlinked file: the body copy, and the message the queue program
 * reads (a file is as good as a pipe on its fd 0, and we exec it instead
 * of running it beside us: one process fewer per message). */
static int tmp_open(void)
{
  stralloc path = STRALLOC_ZERO;
  char const *dir = getenv("TMPDIR");
  int fd;
  if (!dir || !*dir) dir = "/tmp";
  fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL))
  {
    /* no O_TMPFILE on this file system: a fresh name, unlinked at once */
    if (!stralloc_cats(&path, dir) || !stralloc_cats(&path, "/tern-dkimsign.XXXXXX") || !stralloc_0(&path))
      die(QEXIT_NOMEM, "allocate");
    fd = mkstemp(path.s);
    if (fd >= 0) { unlink(path.s); coe(fd); }
    stralloc_free(&path);
  }
  if (fd < 0) die(QEXIT_WRITE, "create a temporary file");
  return fd;
}

static void put(int fd, char const *s, size_t n)
{
  if (allwrite(fd, s, n) < n) die(QEXIT_WRITE, "write a temporary file");
}

/* Copies the rest of fd 0 to out; with b, hashes it as body. */
static void copy_input(int out, dkim_body *b)
{
  char buf[CHUNK];
  for (;;)
  {
    ssize_t r = fd_read(0, buf, sizeof buf);
    if (r < 0) die(QEXIT_READ, "read the message");
    if (!r) return;
    if (b) dkim_body_put(b, buf, (size_t)r);
    put(out, buf, (size_t)r);
  }
}

/* Appends all of file in (from its start) to out: in the kernel when it can. */
static void copy_file(int in, int out)
{
  char buf[CHUNK];
  loff_t off = 0;
  for (;;)
  {
    ssize_t r = copy_file_range(in, &off, out, 0, (size_t)1 << 30, 0);
    if (!r) return;
    if (r < 0) break;
  }
  if (errno != ENOSYS && errno != EXDEV && errno != EINVAL && errno != EOPNOTSUPP) die(QEXIT_WRITE, "copy a temporary file");
  if (lseek(in, off, SEEK_SET) < 0) die(QEXIT_WRITE, "rewind a temporary file");
  for (;;)
  {
    ssize_t r = fd_read(in, buf, sizeof buf);
    if (r < 0) die(QEXIT_WRITE, "read a temporary file");
    if (!r) return;
    put(out, buf, (size_t)r);
  }
}

/* Becomes the queue program, the message in fd (from its start) as its fd
 * 0 and our fd 1, the envelope, unread, as its fd 1. */
static void exec_queue_on(int fd)
{
  if (lseek(fd, 0, SEEK_SET) < 0) die(QEXIT_WRITE, "rewind a temporary file");
  if (fd_move(0, fd) < 0) die(QEXIT_EXEC, "move a temporary file to fd 0");
  exec_queue();
}

/* Connects to the queue writer: 1 it is ready for the message, 0 not:
 * the queue program then does the work. Only for a message that comes
 * with a fresh proposed ID, that is from tern-smtpd: tern-inject proposes
 * none, and its callers are local users the writer's directory keeps out,
 * or root, whom the writer refuses with a warning in its log (a cron job's
 * mail would put one there each time). The ID is the one tern-queue would
 * have kept, so the 250, the Received line and the file agree. */
static int writer_start(msg *m)
{
  char const *x = getenv("TERN_QUEUEID");
  if (!m->sock || !x || !queuewrite_id_ok(x, 1, (uint64_t)time(0))) return 0;
  return queuedclient_start(&m->w, m->sock, x, m->timeout);
}

/* Sends fd (read to its end) to the writer as message bytes. */
static void writer_copy(msg *m, int fd)
{
  char buf[CHUNK];
  for (;;)
  {
    ssize_t r = fd_read(fd, buf, sizeof buf);
    if (r < 0) die(fd ? QEXIT_WRITE : QEXIT_READ, fd ? "read a temporary file" : "read the message");
    if (!r) return;
    queuedclient_put(&m->w, buf, (size_t)r);
  }
}

/* The message has gone to the writer: now the envelope, from our fd 1,
 * checked here as tern-queue checks it (so that a bad one ends with
 * tern-queue's code, nothing committed) and again by the writer. Exits
 * with the writer's answer, a qmail-queue exit code. */
static void writer_finish(msg *m)
{
  queuewrite_env e = QUEUEWRITE_ENV_ZERO;
  char const *what;
  int code = queuewrite_env_read(&e, 1, &what);
  if (code)
  {
    queuedclient_abort(&m->w);
    die(code, what);
  }
  code = queuedclient_finish(&m->w, e.sa.s, e.sa.len);
  if (code)
  {
    char num[UINT_FMT];
    num[uint_fmt(num, (unsigned int)code)] = 0;
    strerr_warnw("id=", m->id, " the queue writer (tern-queued) answered exit code ", num);
  }
  _exit(code);
}

/* The message goes on as it came (after we read its header section). */
static void pass(msg *m, char const *why, char const *what)
{
  int fd;
  strerr_warni("id=", m->id, " not signed: ", why, what, " (", m->who, ")");
  if (writer_start(m))
  {
    queuedclient_put(&m->w, m->in.s, m->in.len);
    if (!m->eof) writer_copy(m, 0);
    writer_finish(m);
  }
  fd = tmp_open();
  put(fd, m->in.s, m->in.len);
  if (!m->eof) copy_input(fd, 0);
  exec_queue_on(fd);
}

/* Hashes the body while it goes into a file, from the empty line on:
 * m->bh. Returns the file. */
static int spool_body(msg *m)
{
  dkim_body b;
  int fd = tmp_open();
  dkim_body_init(&b, 0);
  dkim_body_put(&b, m->in.s + m->body, m->in.len - m->body);
  put(fd, m->in.s + m->hlen, m->in.len - m->hlen);
  if (!m->eof) copy_input(fd, &b);
  dkim_body_end(&b, m->bh);
  return fd;
}

/* tern-dkimseal failed: it said why above, or errno does. */
static void seal_failed(char const *what)
{
  if (errno == ETIMEDOUT) die(QEXIT_TIMEOUT, what);
  if (errno == ECHILD || errno == EPROTO)
  {
    strerr_warnw("unable to ", what, errno == ECHILD ? ": tern-dkimseal failed (its reason is above)"
      : ": tern-dkimseal answered what we do not understand");
    _exit(QEXIT_CONFIG);
  }
  die(QEXIT_CONFIG, what);
}

/* Builds each signature field; the hashes go to tern-dkimseal. */
static void make_sigs(msg *m, dkim_rule const *r, char const *hlist, dkim_sig *sig)
{
  static unsigned char sigs[DKIM_MAXSEL][DKIM_SIG_MAX];
  unsigned char hashes[32 * DKIM_MAXSEL];
  stralloc seal = STRALLOC_ZERO;
  dkim_seal s;
  unsigned int i;
  uint64_t now = (uint64_t)time(0);
  dkim_field const *f = genalloc_s(dkim_field, &m->fields);
  size_t nf = genalloc_len(dkim_field, &m->fields);
  if (!dkim_run_beside(&seal, "tern-dkimseal")) die(QEXIT_NOMEM, "find tern-dkimseal");
  if (!dkim_seal_start(&s, seal.s, r)) seal_failed("get the keys from tern-dkimseal");
  for (i = 0; i < s.n; i++)
    if (!dkim_sig_start(sig + i, s.alg[i], r->domain, r->sel[i], now, hlist, m->bh)
     || !dkim_head_hash(hashes + 32 * i, m->in.s, f, nf, hlist, sig[i].text.s, sig[i].text.len))
      die(QEXIT_NOMEM, "build the signature");
  if (!dkim_seal_finish(&s, hashes, sigs)) seal_failed("get the signatures from tern-dkimseal");
  for (i = 0; i < s.n; i++)
    if (!dkim_sig_finish(sig + i, sigs[i], s.siglen[i])) die(QEXIT_NOMEM, "build the signature");
  stralloc_free(&seal);
}

/* Signs, then hands the signed message to the writer, or becomes the
 * queue program with it in a second file. */
static void sign(msg *m, dkim_rule const *r, char const *hlist)
{
  dkim_sig sig[DKIM_MAXSEL];
  stralloc line = STRALLOC_ZERO;
  unsigned int i;
  int spool = spool_body(m), fd;
  for (i = 0; i < DKIM_MAXSEL; i++) sig[i] = (dkim_sig)DKIM_SIG_ZERO;
  make_sigs(m, r, hlist, sig);
  for (i = 0; i < r->nsel; i++)
    if ((i && !stralloc_catb(&line, ",", 1)) || !stralloc_cats(&line, r->sel[i])) die(QEXIT_NOMEM, "allocate");
  if (!stralloc_0(&line)) die(QEXIT_NOMEM, "allocate");
  strerr_warni("id=", m->id, " signed d=", r->domain, " s=", line.s, " (", m->who, ")");
  if (writer_start(m))
  {
    for (i = 0; i < r->nsel; i++) queuedclient_put(&m->w, sig[i].text.s, sig[i].text.len);
    queuedclient_put(&m->w, m->in.s, m->hlen);
    if (lseek(spool, 0, SEEK_SET) < 0) die(QEXIT_WRITE, "rewind a temporary file");
    writer_copy(m, spool);
    writer_finish(m);
  }
  fd = tmp_open();
  for (i = 0; i < r->nsel; i++) put(fd, sig[i].text.s, sig[i].text.len);
  put(fd, m->in.s, m->hlen);
  copy_file(spool, fd);
  fd_close(spool);
  exec_queue_on(fd);
}

/* A message we do not read: to the writer byte for byte, or the queue
 * program gets our fd 0 as it is. */
static void unread(msg *m)
{
  if (writer_start(m))
  {
    writer_copy(m, 0);
    writer_finish(m);
  }
  exec_queue();
}

/* The rule for the From domain: 1 found, 0 none (dom empty: no domain). */
static int find_rule(msg *m, dkim_rule *r, stralloc const *lines, int n, stralloc *dom)
{
  char const *bad = 0;
  int k;
  if (!dkim_head_from(dom, m->in.s, genalloc_s(dkim_field, &m->fields), genalloc_len(dkim_field, &m->fields)))
    dom->len = 0;
  /* every line is checked, even without a domain: a typo shows at once */
  k = dkim_conf_find(r, lines->s, n, dom->len ? dom->s : "", &bad);
  if (k < 0 && errno == EINVAL)
  {
    strerr_warnw("control/dkimdomains: bad line: ", bad, " (want domain:selector[,selector...][:domain])");
    _exit(QEXIT_CONFIG);
  }
  if (k < 0) control_die(QEXIT_NOMEM, "dkimdomains");
  return k;
}

/* The writer's socket in sock, and m->sock set, unless $DKIMQUEUE names
 * a program (a chain of filters: it must run). The timeout is tern-smtpd's
 * (control/timeoutsmtpd, the same bounds): we are a step of its DATA. */
static void writer_conf(msg *m, stralloc *sock)
{
  if (!queuedclient_socket(sock, "DKIMQUEUE")) die(QEXIT_NOMEM, "find the queue writer's socket");
  if (!sock->len) return;
  if (control_readuint(&m->timeout, "timeoutsmtpd", TIMEOUT_DEFAULT) < 0) control_die(QEXIT_CONFIG, "timeoutsmtpd");
  if (!m->timeout || m->timeout > 86400) { errno = ERANGE; control_die(QEXIT_CONFIG, "timeoutsmtpd"); }
  m->sock = sock->s;
}

int main(int argc, char const *const *argv)
{
  msg m = { .in = STRALLOC_ZERO, .eof = 0, .fields = GENALLOC_ZERO, .sock = 0 };
  dkim_rule r = DKIM_RULE_ZERO;
  stralloc who = STRALLOC_ZERO, dom = STRALLOC_ZERO, hlist = STRALLOC_ZERO, lines = STRALLOC_ZERO, sock = STRALLOC_ZERO;
  unsigned int max;
  int n;
  char const *q = getenv("DKIMQUEUE");
  PROG = "tern-dkimsign";
  (void)argc; (void)argv;
  if (fcntl(0, F_GETFD) < 0 || fcntl(1, F_GETFD) < 0) die(QEXIT_READ, "find the message and the envelope on fds 0 and 1");
  /* a closed fd 2 would be the next file we open: our log lines in the message */
  if (fcntl(2, F_GETFD) < 0 && open("/dev/null", O_WRONLY) != 2) die(QEXIT_READ, "open /dev/null");
  if (q && *q ? !stralloc_cats(&qprog, q) || !stralloc_0(&qprog) : !dkim_run_beside(&qprog, "tern-queue"))
    die(QEXIT_NOMEM, "find the queue program");
  /* a writer that goes away is told by its answer (exec_queue restores it) */
  sig_ignore(SIGPIPE);
  m.id = queue_id();
  writer_conf(&m, &sock);
  m.who = trusted(&who);
  if (!m.who) unread(&m);   /* a stranger: never signed, never parsed */
  n = control_readlines(&lines, "dkimdomains");
  if (n < 0) control_die(QEXIT_CONFIG, "dkimdomains");
  if (!n) unread(&m);       /* nothing to sign for */
  if (control_readuint(&max, "dkimheaderbytes", HEADER_MAX_DEFAULT) < 0) control_die(QEXIT_CONFIG, "dkimheaderbytes");
  read_head(&m, max);
  if (!dkim_head_fields(&m.fields, m.in.s, m.hlen)) die(QEXIT_NOMEM, "parse the header");
  if (!find_rule(&m, &r, &lines, n, &dom))
  {
    if (!dom.len) pass(&m, "no author domain (no From field, or no domain in it)", "");
    pass(&m, "no rule in control/dkimdomains for ", dom.s);
  }
  if (!dkim_head_hlist(&hlist, m.in.s, genalloc_s(dkim_field, &m.fields), genalloc_len(dkim_field, &m.fields)))
    die(QEXIT_NOMEM, "list the fields to sign");
  sign(&m, &r, hlist.s);
  return QEXIT_BUG;   /* sign() hands the message on or exits */
}
