/* maildir.h: delivery into a Maildir (tmp, fsync, rename into new), as
 * https://cr.yp.to/proto/maildir.html describes; read by tern-pop3d, Dovecot,
 * mutt. */
#ifndef TERN_MAILDIR_H
#define TERN_MAILDIR_H

#include <stddef.h>
#include <stdint.h>
#include <skalibs/stralloc.h>

/* A unique file name: SECONDS.MmicrosPpidQcount.HOST (HOST with '/' and ':'
 * escaped as \057 and \072). NUL-terminated in sa. 1 ok, 0 out of memory. */
extern int maildir_uniq(stralloc *sa);

/* Writes hdr[0..hdrlen) then bytes [0, msglen) of fd (read with pread) into
 * DIR/tmp/NAME, fsyncs it, renames it to DIR/new/NAME and fsyncs DIR/new.
 * The message is written as maildir_copy writes it. dir ends in '/'. name receives NAME. 1 ok; -1 error with errno (ENOENT:
 * no such Maildir; ENOSPC, EDQUOT: full; ELOOP: DIR, tmp/ or new/ is a
 * symbolic link or not a directory; EPERM: one of them does not belong to
 * our effective uid or others may write it); *what names the step that
 * failed. The tmp file is removed on failure. Nothing is followed or
 * created outside the Maildir whatever its owner put in it (docs/security.md). */
extern int maildir_deliver(char const *dir, char const *hdr, size_t hdrlen,
                           int fd, uint64_t msglen, stralloc *name, char const **what);

/* Copies bytes [0, n) of fd (pread: fd's offset is untouched) to out in
 * lib/dataenc.h's LF form: NUL dropped, CR LF and a lone CR turned into LF,
 * a last line without its LF completed. So a Maildir file is clean whatever
 * the queue file held (docs/security.md). 1 ok, -1 error (errno;
 * EPROTO when fd is shorter than n). */
extern int maildir_copy(int out, int fd, uint64_t n);

#endif
