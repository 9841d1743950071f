/* tcpserver.h: tern-tcpserver's settings and the parts its main calls. */
#ifndef TERN_TCPSERVER_H
#define TERN_TCPSERVER_H

#include <stdint.h>
#include <sys/types.h>
#include <skalibs/ip46.h>
#include <skalibs/stralloc.h>

typedef struct tcpserver_s tcpserver;
struct tcpserver_s
{
  unsigned int maxconn;     /* -c: children at once (40) */
  unsigned int maxperip;    /* -C: children per client (0: no limit) */
  unsigned int bits4;       /* -m: IPv4 prefix length that makes one client (32) */
  unsigned int bits6;       /* -M: IPv6 prefix length that makes one client (64) */
  unsigned int stresspct;   /* -S: busy slots, in % of -c, that bring stress (80; 0 never) */
  unsigned int backlog;     /* -b: listen backlog (256) */
  char const *rules;        /* -x: rules cdb, re-opened per connection */
  struct tcpserver_rdb_s *rdb; /* pool mode: the cdb kept open while its stat is the same (0: classic) */
  int rules_missing_ok;     /* -X: a missing cdb allows (a corrupt one still denies) */
  char const *banner;       /* -B: written to the client before the program runs */
  int verbosity;            /* 0 -q, 1 -Q (default), 2 -v */
  int lookuphost;           /* -h: set TCPREMOTEHOST from a reverse lookup */
  int paranoid;             /* -p: ... only when the name maps back to the address */
  char const *localname;    /* -l: TCPLOCALHOST */
  int ident;                /* -r: RFC 1413 lookup for TCPREMOTEINFO */
  unsigned int timeout;     /* -t: seconds for DNS and ident lookups (26) */
  int nodelay;              /* -D: TCP_NODELAY */
  int keepipoptions;        /* -o: keep IP options (-O, the default, kills them) */
  int printport;            /* -1: print the bound port on stdout */
  unsigned int poolsessions;/* -w: pool mode, sessions per worker (0: classic mode) */
  unsigned int poolspare;   /* -k: idle workers kept ready (4, at most -c) */
  unsigned int poolidle;    /* -K: seconds an idle worker beyond -k lives on (60) */
  int setuid, setgid;
  uid_t uid;
  gid_t gid;
  char const *const *argv;  /* the program chain */
  int lfd;                  /* the listening socket */
  int is6;
  ip46 localip;
  uint16_t localport;
};

/* tcpserver_child.c: the rules cdb as the pool's launcher keeps it
 * between connections: open and mapped while a stat of its path gives the
 * same device, inode, size, mtime and ctime; tern-tcprules' rename (or any
 * change) makes the next connection open it again. */
typedef struct tcpserver_rdb_s tcpserver_rdb;
extern tcpserver_rdb *tcpserver_rdb_new(void);
extern void tcpserver_rdb_free(tcpserver_rdb *);

/* tcpserver_child.c: runs in the forked child for one connection (fd s);
 * stress: the connection was accepted under stress (TERN_STRESS=1).
 * Never returns. */
extern void tcpserver_child(tcpserver const *t, int s, ip46 const *remote, uint16_t remoteport, int stress) gccattr_noreturn;

/* tcpserver_child.c: the connection's environment changes (the ucspi
 * variables, then the rules') appended to env, and the rules' decision,
 * logged with pid: 1 allow, 0 deny, -1 system error (errno). The same in
 * both modes: "the environment a program sees is the same". */
extern int tcpserver_conn(tcpserver const *t, int s, ip46 const *remote, uint16_t remoteport, int stress, pid_t pid, stralloc *env);

/* tcpserver_port.c: the port argument, a number (0..65535) or a TCP
 * service name from the services file (normally /etc/services), else a
 * built-in table of the mail ports (smtp, submission, submissions, smtps,
 * pop3, pop3s, imap, imaps, http, https). 1 ok (*port), 0 not a port
 * (errno EINVAL) or an unknown name (ENOENT), -1 the file could not be
 * read. tcpserver_port_line: one line of that file (1 when it names s). */
#define TCPSERVER_SERVICES "/etc/services"
extern int tcpserver_port(char const *s, char const *services, uint16_t *port);
extern int tcpserver_port_line(char const *line, size_t n, char const *s, uint16_t *port);

/* tcpserver_pool.c: pool mode's accept loop (-w); returns the exit code. */
extern int tcpserver_pool(tcpserver *t);

/* tcpserver_loop.c: accepts until SIGTERM; returns the exit code. */
extern int tcpserver_loop(tcpserver *t);

/* tcpserver_ident.c: RFC 1413 user name of the connection's peer into
 * out (at most outmax-1 bytes, printable); 1 found, 0 not. */
extern int tcpserver_ident(ip46 const *local, uint16_t lport, ip46 const *remote, uint16_t rport, unsigned int timeout, char *out, size_t outmax);

/* tcpserver_host.c: the client's host name by reverse lookup, in out
 * (RULES_HOST_MAX+2 bytes). 2 found and it maps back to the address
 * (A/AAAA), 1 found but it does not, 0 none. */
extern int tcpserver_host(ip46 const *remote, unsigned int timeout, char *out);

#endif
