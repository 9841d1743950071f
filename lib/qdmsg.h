/* qdmsg.h: the records between tern-smtpd and the resident queue writer
 * (tern-queued), over a unix stream socket (docs/INTERNALS.md, "The queue
 * writer's socket").
 *
 * Each record is a type byte, a 4-byte big-endian payload length, then the
 * payload. Per connection, one message:
 *
 *   writer -> client:  'R' (len 0)  ready: go on        (or 'B': busy, and
 *                                                         the writer closes)
 *   client -> writer:  'I' (16)     the proposed queue ID (first, once)
 *                      'D' (1..QDMSG_MAX)  message bytes, any number
 *                      'E' (1..QDMSG_MAX)  envelope bytes, until its final
 *                                          empty record; then nothing more
 *   writer -> client:  'C' (1 or 17) the qmail-queue exit code (lib/qexit.h)
 *                      as one byte, then with code 0 the committed ID
 *
 * One parser for headers (qdmsg_hdr_parse) and one for the result
 * (qdmsg_result_parse); both refuse unknown types, wrong lengths and
 * trailing bytes. */
#ifndef TERN_QDMSG_H
#define TERN_QDMSG_H

#include <stddef.h>
#include <stdint.h>
#include "queueid.h"

#define QDMSG_HDR 5
#define QDMSG_MAX 65536
#define QDMSG_RESULT (1 + QUEUEID_LEN)

/* Formats the header of a record of type t with len payload bytes. */
extern void qdmsg_hdr(char *h, char t, uint32_t len);

/* Parses a header: 1 ok (type in *t, length in *len), 0 an unknown type or
 * a length that type cannot have. */
extern int qdmsg_hdr_parse(char const *h, char *t, uint32_t *len);

/* Formats the 'C' record (header and payload) for code and, when code is
 * 0, id; returns its length (at most QDMSG_HDR + QDMSG_RESULT). */
extern size_t qdmsg_result(char *out, int code, char const *id);

/* Parses a 'C' payload of n bytes: 1 ok (code in *code, and with code 0 the
 * ID in id, NUL-terminated, checked as 16 lowercase hex digits), 0 bad. */
extern int qdmsg_result_parse(char const *s, size_t n, int *code, char *id);

#endif
