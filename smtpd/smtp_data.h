/* smtp_data.h: the DATA stream, byte by byte: dot-unstuffing, CRLF to LF,
 * the end only at CRLF.CRLF, bare CR or LF and NUL refused (SMTP
 * smuggling), size and Received-hop limits, and the header section read as
 * lib/msghdr.h reads it (for the loop checks at the end of DATA), all in the
 * one pass. Pure: the unit tests feed it bytes. */
#ifndef TERN_SMTP_DATA_H
#define TERN_SMTP_DATA_H

#include <stddef.h>
#include <stdint.h>
#include "msghdr.h"

/* smtp_data_feed results */
#define DATA_MORE 0       /* keep feeding */
#define DATA_END 1        /* CRLF.CRLF seen */
#define DATA_OUT 2        /* *out holds one message byte to store */

/* errors, in d->err, found on the way; the message is then refused and
 * nothing more is stored. After a bare LF or CR (the framing is in doubt)
 * the stream is read until an end marker of any kind, and that error wins
 * over any other: the session must end. After the others the end is still
 * CRLF.CRLF only. */
#define DATA_EBARELF 1
#define DATA_EBARECR 2
#define DATA_ESIZE 3
#define DATA_EHOPS 4
#define DATA_ENUL 5
#define DATA_ENOMEM 6

typedef struct smtp_data_s smtp_data;
struct smtp_data_s
{
  int st;
  int err;
  uint64_t bytes;        /* message size as RFC 1870 counts it (CRLF = 2) */
  uint64_t max;          /* 0: no limit */
  unsigned int maxhops;  /* Received fields allowed */
  msghdr hdr;            /* the header section: hops, Delivered-To */
};

extern void smtp_data_init(smtp_data *d, uint64_t max, unsigned int maxhops);
extern void smtp_data_free(smtp_data *d);

/* Takes one input byte. Returns DATA_OUT with *out set when the message
 * gets a byte, DATA_END at the end of data, DATA_MORE otherwise. */
extern int smtp_data_feed(smtp_data *d, char c, char *out);

#endif
