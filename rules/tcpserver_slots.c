/* tcpserver_slots.c: busy slots, per-client counts and stress (tcpserver_slots.h). */
#include <stdlib.h>
#include <string.h>
#include <skalibs/ip46.h>
#include "tcpserver_slots.h"

int slots_init(slots *sl, unsigned int max, unsigned int perclient, unsigned int bits4, unsigned int bits6, unsigned int pct)
{
  sl->max = max;
  sl->perclient = perclient;
  sl->bits4 = bits4 > 32 ? 32 : bits4;
  sl->bits6 = bits6 > 128 ? 128 : bits6;
  sl->n = 0;
  sl->stress = 0;
  sl->on = sl->off = 0;
  if (pct)
  {
    unsigned int hyst = max / 10 ? max / 10 : 1;
    sl->on = (unsigned int)(((unsigned long)max * pct + 99) / 100);
    if (!sl->on) sl->on = 1;
    sl->off = sl->on > hyst ? sl->on - hyst : 1;
  }
  sl->s = malloc(sizeof(slot) * (max ? max : 1));
  return !!sl->s;
}

void slots_free(slots *sl)
{
  free(sl->s);
  sl->s = 0;
  sl->n = 0;
}

void slots_client(slots const *sl, ip46 const *ip, ip46 *client)
{
  ip46 a = *ip;   /* ip and client may be the same */
  unsigned int bits = ip46_is6(&a) ? sl->bits6 : sl->bits4;
  unsigned int len = ip46_is6(&a) ? 16 : 4, i;
  memset(client, 0, sizeof *client);
  client->is6 = ip46_is6(&a);
  for (i = 0; i < len && bits; i++)
  {
    unsigned int b = bits >= 8 ? 8 : bits;
    client->ip[i] = (char)((unsigned char)a.ip[i] & (unsigned char)(0xff << (8 - b)));
    bits -= b;
  }
}

/* Keys are zero-padded by slots_client: comparing the whole struct is exact. */
static int same(ip46 const *a, ip46 const *b)
{
  return ip46_is6(a) == ip46_is6(b) && !memcmp(a->ip, b->ip, 16);
}

int slots_admit(slots const *sl, ip46 const *client)
{
  unsigned int i, k = 0;
  if (!sl->perclient) return 1;
  for (i = 0; i < sl->n; i++)
    if (same(&sl->s[i].client, client) && ++k >= sl->perclient) return 0;
  return 1;
}

/* Stress after a change of n: the transition it makes. */
static int update(slots *sl)
{
  if (!sl->on) return 0;
  if (!sl->stress && sl->n >= sl->on) { sl->stress = 1; return 1; }
  if (sl->stress && sl->n < sl->off) { sl->stress = 0; return -1; }
  return 0;
}

int slots_add(slots *sl, unsigned long id, ip46 const *client)
{
  if (sl->n >= sl->max) return 0;
  sl->s[sl->n].id = id;
  sl->s[sl->n++].client = *client;
  return update(sl);
}

int slots_remove(slots *sl, unsigned long id)
{
  unsigned int i;
  for (i = 0; i < sl->n; i++)
    if (sl->s[i].id == id)
    {
      sl->s[i] = sl->s[--sl->n];
      return update(sl);
    }
  return 0;
}

void slots_setid(slots *sl, unsigned long id, unsigned long newid)
{
  unsigned int i = sl->n;
  while (i--)   /* from the end: the slot was normally just added */
    if (sl->s[i].id == id) { sl->s[i].id = newid; return; }
}
