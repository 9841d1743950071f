/* tcpserver_slots.h: tern-tcpserver's connection slots: how many are busy,
 * how many one client holds, and whether the server is under stress.
 *
 * One place for the accounting, whatever runs a connection: a forked child
 * today, a pooled worker later (issue 14). A slot is named by an id the
 * caller chooses (the child's pid, or a worker's connection number).
 *
 * A "client" is an address prefix: an IPv4 address (/32) or an IPv6 /64 by
 * default, since one IPv6 host commonly holds a whole /64 and can pick a new
 * address per connection (-m and -M change the lengths; -m 24 counts IPv4
 * by /24).
 *
 * Stress (Postfix's model): when the busy slots reach pct% of the limit,
 * every connection accepted from then on is marked stressed, and its
 * programs use their short timeouts (TERN_STRESS=1, docs/tern-tcpserver.8).
 * Stress ends when the busy slots fall under pct% minus a tenth of the
 * limit, so a server at the threshold does not flip on every connection.
 *
 * SECURITY: bounded: the table holds max entries, allocated once. */
#ifndef TERN_TCPSERVER_SLOTS_H
#define TERN_TCPSERVER_SLOTS_H

#include <stdint.h>
#include <skalibs/ip46.h>

typedef struct slot_s slot;
struct slot_s
{
  unsigned long id;
  ip46 client;              /* the address masked to its client prefix */
};

typedef struct slots_s slots;
struct slots_s
{
  unsigned int max;         /* -c */
  unsigned int perclient;   /* -C: 0 no limit */
  unsigned int bits4, bits6;/* -m, -M: prefix lengths that make one client */
  unsigned int on, off;     /* stress begins at n >= on, ends at n < off; on 0: never */
  unsigned int n;
  int stress;
  slot *s;
};

/* The defaults of -m and -M, -S. */
#define SLOTS_BITS4 32
#define SLOTS_BITS6 64
#define SLOTS_STRESS_PCT 80

/* Allocates the table. pct 0 turns stress off. 1 ok, 0 out of memory. */
extern int slots_init(slots *sl, unsigned int max, unsigned int perclient, unsigned int bits4, unsigned int bits6, unsigned int pct);
extern void slots_free(slots *sl);

/* Every slot busy: the caller stops accepting. */
#define slots_full(sl) ((sl)->n >= (sl)->max)

/* The client key of ip (its prefix); ip and client may be the same. */
extern void slots_client(slots const *sl, ip46 const *ip, ip46 *client);

/* 1 when client (from slots_client) may take another slot under -C. */
extern int slots_admit(slots const *sl, ip46 const *client);

/* Takes a slot (the caller checked slots_full) and removes one. Both
 * return the change of stress they caused: 1 stress began, -1 it ended,
 * 0 no change. slots_remove of an unknown id changes nothing. */
extern int slots_add(slots *sl, unsigned long id, ip46 const *client);
extern int slots_remove(slots *sl, unsigned long id);

/* Renames slot id to newid (a slot taken before its pid was known). */
extern void slots_setid(slots *sl, unsigned long id, unsigned long newid);

/* tcpserver_loop.c, shared by both modes. */
struct tcpserver_s;
/* Accepts one connection and checks -C: the socket, or -1 (nothing to
 * take, an error logged, or refused under -C and closed). client gets the
 * client key. */
extern int tcpserver_accept(struct tcpserver_s const *t, slots const *sl, ip46 *ip, uint16_t *port, ip46 *client);
extern void tcpserver_status(struct tcpserver_s const *t, slots const *sl);
extern void tcpserver_stress_log(struct tcpserver_s const *t, slots const *sl, int change);

#endif
