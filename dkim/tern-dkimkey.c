/* tern-dkimkey.c: makes a DKIM key for a domain and selector and prints the DNS record to publish.
 *
 * Interface: tern-dkimkey [-t rsa|ed25519] [-b bits] DOMAIN SELECTOR
 *            tern-dkimkey -p DOMAIN SELECTOR
 * Writes $TERN_HOME/dkim/DOMAIN/SELECTOR.key (PKCS#8 PEM, mode 400, owned
 * like dkim/ itself: the DKIM user under make install) and prints on fd 1
 * the TXT record for SELECTOR._domainkey.DOMAIN in zone-file form. An
 * existing key is never replaced (a new key takes a new selector:
 * docs/dkim.md, "Rotation"). With -p it prints the record of the existing
 * key. Exit 0; 100 usage, a bad name, the key exists; 111 system errors.
 *
 * SECURITY: run by the admin (root, under make install). The key is
 * written under a temporary name with O_EXCL, mode 400 from the start,
 * given to dkim/'s owner before it has a name tern-dkimseal would open,
 * fsync'd, then linked into place (link fails rather than replace). The
 * key bytes are wiped from memory before exit. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/sgetopt.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include <sodium.h>
#include "control.h"
#include "dkim_conf.h"
#include "dkim_key.h"
#include "dkim_keygen.h"

#define USAGE "tern-dkimkey [ -t rsa|ed25519 ] [ -b bits ] domain selector | tern-dkimkey -p domain selector"
#define TXT_STRING_MAX 255

typedef struct opts_s opts;
struct opts_s
{
  int ed25519;
  unsigned int bits;
  int print;
};

static void parse_opts(opts *o, int *argc, char const *const **argv)
{
  subgetopt l = SUBGETOPT_ZERO;
  for (;;)
  {
    int opt = subgetopt_r(*argc, *argv, "t:b:p", &l);
    if (opt == -1) break;
    switch (opt)
    {
      case 't':
        if (!strcmp(l.arg, "ed25519")) o->ed25519 = 1;
        else if (strcmp(l.arg, "rsa")) strerr_dief(100, "unknown key type (rsa or ed25519): ", l.arg);
        break;
      case 'b':
        if (!uint0_scan(l.arg, &o->bits) || o->bits < DKIM_RSA_MIN || o->bits > 4096)
          strerr_dief(100, "bits must be 1024 to 4096: ", l.arg);
        break;
      case 'p': o->print = 1; break;
      default: strerr_dieusage(100, USAGE);
    }
  }
  *argc -= l.ind;
  *argv += l.ind;
}

/* A directory we create gets the owner of dkim/ (when we may give it). */
static void mkdir_owned(char const *path, struct stat const *owner)
{
  if (mkdir(path, 0700) < 0)
  {
    if (errno == EEXIST) return;
    strerr_diefusys(111, "create ", path);
  }
  if (owner && chown(path, owner->st_uid, owner->st_gid) < 0) strerr_diefusys(111, "give ", path, " to dkim/'s owner");
}

/* Writes the key: tmp name, O_EXCL, 0400, owner, fsync, link. */
static void write_key(char const *dir, char const *path, stralloc const *pem, struct stat const *owner)
{
  stralloc tmp = STRALLOC_ZERO;
  char num[PID_FMT];
  int fd;
  num[pid_fmt(num, getpid())] = 0;
  if (!stralloc_cats(&tmp, path) || !stralloc_cats(&tmp, ".tmp.") || !stralloc_cats(&tmp, num) || !stralloc_0(&tmp))
    strerr_diefu(111, "allocate");
  fd = open(tmp.s, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0400);
  if (fd < 0) strerr_diefusys(111, "create ", tmp.s);
  if ((owner && fchown(fd, owner->st_uid, owner->st_gid) < 0) || allwrite(fd, pem->s, pem->len) < pem->len
   || fsync(fd) < 0 || close(fd) < 0)
  {
    unlink(tmp.s);
    strerr_diefusys(111, "write ", tmp.s);
  }
  if (link(tmp.s, path) < 0)
  {
    int e = errno;
    unlink(tmp.s);
    errno = e;
    if (e == EEXIST) strerr_dief(100, path, " appeared meanwhile: not replaced");
    strerr_diefusys(111, "link ", path);
  }
  unlink(tmp.s);
  fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || fsync(fd) < 0) strerr_diefusys(111, "fsync ", dir);
  close(fd);
  stralloc_free(&tmp);
}

/* SELECTOR._domainkey.DOMAIN. IN TXT ( "..." "..." ): DNS strings hold at
 * most 255 bytes, so a 2048-bit key takes two; resolvers join them. */
static void print_record(char const *domain, char const *sel, dkim_key const *k)
{
  stralloc rec = STRALLOC_ZERO, out = STRALLOC_ZERO;
  size_t i;
  if (!dkim_key_record(&rec, k)) strerr_diefu(111, "make the record");
  if (!stralloc_cats(&out, sel) || !stralloc_cats(&out, "._domainkey.") || !stralloc_cats(&out, domain)
   || !stralloc_cats(&out, ". IN TXT (")) strerr_diefu(111, "allocate");
  for (i = 0; i < rec.len; i += TXT_STRING_MAX)
  {
    size_t n = rec.len - i < TXT_STRING_MAX ? rec.len - i : TXT_STRING_MAX;
    if (!stralloc_cats(&out, " \"") || !stralloc_catb(&out, rec.s + i, n) || !stralloc_catb(&out, "\"", 1))
      strerr_diefu(111, "allocate");
  }
  if (!stralloc_cats(&out, " )\n")) strerr_diefu(111, "allocate");
  if (buffer_putflush(buffer_1, out.s, out.len) < 0) strerr_diefusys(111, "write to stdout");
  stralloc_free(&rec);
  stralloc_free(&out);
}

static void load(dkim_key *k, char const *path)
{
  stralloc text = STRALLOC_ZERO;
  char const *why;
  if (!openslurpclose(&text, path)) strerr_diefusys(errno == ENOENT ? 100 : 111, "read ", path);
  if (!dkim_key_parse(k, text.s, text.len, &why)) strerr_dief(111, path, ": ", why);
  sodium_memzero(text.s, text.a);
  stralloc_free(&text);
}

int main(int argc, char const *const *argv)
{
  opts o = { 0, 2048, 0 };
  stralloc dom = STRALLOC_ZERO, sel = STRALLOC_ZERO, dir = STRALLOC_ZERO, path = STRALLOC_ZERO, pem = STRALLOC_ZERO;
  struct stat st, *owner = 0;
  char const *why;
  dkim_key k;
  PROG = "tern-dkimkey";
  parse_opts(&o, &argc, &argv);
  if (argc != 2) strerr_dieusage(100, USAGE);
  if (!stralloc_cats(&dom, argv[0]) || !stralloc_0(&dom) || !stralloc_cats(&sel, argv[1]) || !stralloc_0(&sel))
    strerr_diefu(111, "allocate");
  dkim_name_lower(dom.s);
  dkim_name_lower(sel.s);
  if (!dkim_name_ok(dom.s, dom.len - 1)) strerr_dief(100, "bad domain name: ", argv[0]);
  if (!dkim_name_ok(sel.s, sel.len - 1)) strerr_dief(100, "bad selector: ", argv[1]);
  umask(077);
  if (chdir(tern_home()) < 0) strerr_diefusys(111, "chdir to ", tern_home());
  if (!stralloc_cats(&dir, "dkim/") || !stralloc_cats(&dir, dom.s) || !stralloc_0(&dir)
   || !stralloc_cats(&path, dir.s) || !stralloc_catb(&path, "/", 1) || !stralloc_cats(&path, sel.s)
   || !stralloc_cats(&path, ".key") || !stralloc_0(&path)) strerr_diefu(111, "allocate");
  if (o.print) { load(&k, path.s); print_record(dom.s, sel.s, &k); dkim_key_wipe(&k); return 0; }
  if (!access(path.s, F_OK)) strerr_dief(100, path.s, " exists: a new key takes a new selector (docs/dkim.md, rotation)");
  mkdir_owned("dkim", 0);
  if (stat("dkim", &st) < 0) strerr_diefusys(111, "stat dkim");
  if (!geteuid() && st.st_uid) owner = &st;
  mkdir_owned(dir.s, owner);
  if (!(o.ed25519 ? dkim_keygen_ed25519(&pem) : dkim_keygen_rsa(&pem, o.bits))) strerr_diefu(111, "make the key");
  write_key(dir.s, path.s, &pem, owner);
  if (!dkim_key_parse(&k, pem.s, pem.len, &why)) strerr_diefu(111, "read back the key: ", why);
  sodium_memzero(pem.s, pem.a);
  print_record(dom.s, sel.s, &k);
  strerr_warni("wrote ", tern_home(), "/", path.s, "; publish the TXT record above, then add ",
    dom.s, ":", sel.s, " to control/dkimdomains (docs/dkim.md)");
  dkim_key_wipe(&k);
  return 0;
}
