/* tcpserver_child.c: one connection: environment, rules decision, log line; then exec (classic) or a worker (pool). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/cdb.h>
#include <skalibs/djbunix.h>
#include <skalibs/exec.h>
#include <skalibs/ip46.h>
#include <skalibs/sig.h>
#include <skalibs/socket.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include <s6/accessrules.h>
#include "rules_parse.h"
#include "rules_lookup.h"
#include "rules_addr.h"
#include "tcpserver.h"

typedef struct conn_s conn;
struct conn_s
{
  tcpserver const *t;
  ip46 remote, local;
  uint16_t rport, lport;
  char rip[IP46_FMT], lip[IP46_FMT], rportf[UINT16_FMT], lportf[UINT16_FMT];
  char host[RULES_HOST_MAX + 2];
  char info[256];
  int hostdone;             /* the reverse lookup was made */
  int hostok;               /* tcpserver_host's answer: 2 confirmed, 1 not, 0 none */
  int stress;               /* accepted under stress */
  char pid[PID_FMT];
};

static void lookup(conn *c)
{
  if (c->hostdone) return;
  c->hostdone = 1;
  c->hostok = tcpserver_host(&c->remote, c->t->timeout, c->host);
}

/* The name for TCPREMOTEHOST and the log: with -p only a confirmed one. */
static char const *remotehost(conn const *c)
{
  return c->hostok == 2 || (c->hostok == 1 && !c->t->paranoid) ? c->host : "";
}

/* Called lazily by the rules when they hold host rules. They see only a
 * name that maps back to the address, -p or not: otherwise whoever runs
 * the client's reverse zone could claim an allowed name. */
static char const *gethost(void *ctx)
{
  conn *c = ctx;
  lookup(c);
  return c->hostok == 2 ? c->host : 0;
}

/* "ok PID LOCALHOST:LOCALIP:LOCALPORT REMOTEHOST:REMOTEIP:REMOTEINFO:REMOTEPORT" */
static void logline(conn const *c, char const *what, char const *why)
{
  char const *lh = c->t->localname ? c->t->localname : "";
  if (c->t->verbosity < 2) return;
  strerr_warn(PROG, ": ", what, " ", c->pid, " ", lh, ":", c->lip, ":", c->lportf, " ",
    remotehost(c), ":", c->rip, ":", c->info, ":", c->rportf, why ? " " : "", why ? why : "");
}

static int deny(conn const *c, char const *why)
{
  logline(c, "deny", why);
  return 0;
}

struct tcpserver_rdb_s
{
  cdb db;
  int open;
  struct stat st;
};

tcpserver_rdb *tcpserver_rdb_new(void)
{
  tcpserver_rdb *r = calloc(1, sizeof *r);
  if (r) r->db = cdb_zero;
  return r;
}

static void rdb_close(tcpserver_rdb *r)
{
  if (r->open) cdb_free(&r->db);
  r->db = cdb_zero;
  r->open = 0;
}

void tcpserver_rdb_free(tcpserver_rdb *r)
{
  if (!r) return;
  rdb_close(r);
  free(r);
}

static int same_file(struct stat const *a, struct stat const *b)
{
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size
      && a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec
      && a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* The cdb for this connection: the kept one when its path still stats the
 * same (one stat instead of open, fstat, mmap, close, munmap per
 * connection), else opened again. 1 ok, 0 error (errno). The stat comes
 * first: a file replaced between it and the open is opened again next time. */
static int rules_open(conn const *c, cdb *db, cdb **use)
{
  tcpserver_rdb *r = c->t->rdb;
  struct stat st;
  *use = db;
  if (!r) return cdb_init(db, c->t->rules);
  if (stat(c->t->rules, &st) < 0) { rdb_close(r); return 0; }
  if (!r->open || !same_file(&st, &r->st))
  {
    rdb_close(r);
    if (!cdb_init(&r->db, c->t->rules)) return 0;
    r->open = 1;
    r->st = st;
  }
  *use = &r->db;
  return 1;
}

/* The rules' decision; appends their variables to env. 1 allow, 0 deny
 * (logged), -1 out of memory. */
static int check_rules(conn *c, stralloc *env)
{
  cdb db = CDB_ZERO, *use;
  char key[RULES_KEY_MAX];
  s6_accessrules_params_t params = S6_ACCESSRULES_PARAMS_ZERO;
  s6_accessrules_result_t r;
  int ok = 1;
  if (!rules_open(c, &db, &use))
  {
    if (errno == ENOENT && c->t->rules_missing_ok) return 1;
    if (c->t->verbosity) strerr_warnwusys("read rules ", c->t->rules, " (dropping connection from ", c->rip, ")");
    return deny(c, "(no usable rules)");
  }
  r = rules_lookup(use, &c->remote, &gethost, c, &params, key);
  if (r == S6_ACCESSRULES_ERROR)
  {
    if (c->t->verbosity) strerr_warnwusys("read rules ", c->t->rules, " (dropping connection from ", c->rip, ")");
    ok = deny(c, "(no usable rules)");
  }
  else if (r == S6_ACCESSRULES_DENY) ok = deny(c, 0);
  else if (r == S6_ACCESSRULES_ALLOW && !stralloc_catb(env, params.env.s, params.env.len)) ok = -1;
  /* the launcher runs this for every connection in pool mode: nothing kept
   * but the mapped cdb (rules_open) */
  stralloc_free(&params.env);
  stralloc_free(&params.exec);
  if (use == &db) cdb_free(&db);
  return ok;
}

static int addvar(stralloc *env, char const *name, char const *value)
{
  return stralloc_cats(env, name) && (!value || (stralloc_catb(env, "=", 1) && stralloc_cats(env, value)))
      && stralloc_0(env);
}

/* The ucspi-tcp variables, and ours: TERN_STRESS=1 for a connection
 * accepted under stress. Unknown ones are removed, not inherited. This is
 * the per-connection environment in every mode (a pooled worker gets the
 * same block). */
static int ucspi_env(conn const *c, stralloc *env)
{
  if (!addvar(env, "PROTO", "TCP") || !addvar(env, "TCPLOCALIP", c->lip)
   || !addvar(env, "TCPLOCALPORT", c->lportf) || !addvar(env, "TCPREMOTEIP", c->rip)
   || !addvar(env, "TCPREMOTEPORT", c->rportf)
   || !addvar(env, "TCPLOCALHOST", c->t->localname)
   || !addvar(env, "TCPREMOTEHOST", *remotehost(c) ? remotehost(c) : 0)
   || !addvar(env, "TCPREMOTEINFO", c->info[0] ? c->info : 0)
   || !addvar(env, "TERN_STRESS", c->stress ? "1" : 0))
    return 0;
  return 1;
}

static int setup(conn *c, int s, pid_t pid)
{
  c->pid[pid_fmt(c->pid, pid)] = 0;
  c->rip[ip46_fmt(c->rip, &c->remote)] = 0;
  c->rportf[uint16_fmt(c->rportf, c->rport)] = 0;
  if (c->t->is6)
  {
    char ip[16];
    if (socket_local6(s, ip, &c->lport) < 0) return 0;
    ip46_from_ip6(&c->local, ip);
    rules_addr_unmap(&c->local);
  }
  else
  {
    char ip[4];
    if (socket_local4(s, ip, &c->lport) < 0) return 0;
    ip46_from_ip4(&c->local, ip);
  }
  c->lip[ip46_fmt(c->lip, &c->local)] = 0;
  c->lportf[uint16_fmt(c->lportf, c->lport)] = 0;
  if (!c->t->keepipoptions && !ip46_is6(&c->local)) setsockopt(s, IPPROTO_IP, IP_OPTIONS, 0, 0);  /* no source routes */
  if (c->t->nodelay) socket_tcpnodelay(s);
  return 1;
}

int tcpserver_conn(tcpserver const *t, int s, ip46 const *remote, uint16_t remoteport, int stress, pid_t pid, stralloc *env)
{
  conn c = { .t = t, .remote = *remote, .rport = remoteport, .host = "", .info = "", .hostdone = 0, .hostok = 0, .stress = stress };
  int r = 1;
  if (!setup(&c, s, pid)) return -1;
  if (t->lookuphost) lookup(&c);
  if (t->ident && !tcpserver_ident(&c.local, c.lport, &c.remote, c.rport, t->timeout, c.info, sizeof c.info))
    c.info[0] = 0;
  if (!ucspi_env(&c, env)) return -1;
  if (t->rules) r = check_rules(&c, env);
  if (r > 0) logline(&c, "ok", 0);
  return r;
}

void tcpserver_child(tcpserver const *t, int s, ip46 const *remote, uint16_t remoteport, int stress)
{
  stralloc env = STRALLOC_ZERO;
  int r;
  sig_restore(SIGPIPE);
  r = tcpserver_conn(t, s, remote, remoteport, stress, getpid(), &env);
  if (r < 0) strerr_diefusys(111, "set up the connection");
  if (!r) _exit(100);
  if (fd_move(0, s) < 0 || fd_copy(1, 0) < 0) strerr_diefusys(111, "set up the connection's descriptors");
  if (t->banner && allwrite(1, t->banner, strlen(t->banner)) < strlen(t->banner)) _exit(111);
  xmexec_m(t->argv, env.s, env.len);
}
