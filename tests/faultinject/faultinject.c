/* faultinject.c: an LD_PRELOAD library for the tests that logs, fails or
 * kills the process at the file-system calls durability depends on.
 *
 * Built into build/tests/faultinject.so (never installed). Tests use it
 * through tests/lib/faults.py; docs are there. It interposes, by family:
 *
 *   fsync      fsync               fdatasync  fdatasync
 *   write      write writev pwrite pwrite64 pwritev
 *   open       open open64 openat openat64 (only with O_CREAT or O_TMPFILE)
 *   link       link linkat         rename     rename renameat renameat2
 *   unlink     unlink unlinkat     mkdir      mkdir mkdirat
 *   ftruncate  ftruncate
 *
 * Environment (all optional):
 *   FAULT_LOG    append one line per call to this file:
 *                PID \t PROG \t FAMILY \t SYMBOL \t PATH \t PATH2 \t RESULT \t DATA
 *                PATH is absolute: a relative name is resolved against the
 *                cwd or the dirfd (through /proc/self/fd), an fd to what
 *                /proc/self/fd/N names (an unnamed O_TMPFILE file:
 *                DIR/#INODE (deleted), its create logged under that name
 *                too, its fault matched against DIR/.); PATH2 is the target of link and
 *                rename, else "-"; RESULT is the return value (>= 0), "-1 ENAME", or "fault" /
 *                "kill" for an injected one; DATA, for write, the first 96
 *                bytes written (non-printable bytes as \xHH).
 *   FAULT_CALL   the family (or exact symbol) to act on; nothing when unset
 *   FAULT_NTH    act at the Nth matching call of the process (default 1;
 *                0: at every matching call)
 *   FAULT_PATH   only calls whose PATH matches this fnmatch(3) pattern
 *   FAULT_PROG   only in processes whose program name is this
 *   FAULT_ERRNO  the error to return: EIO (default), ENOSPC, EDQUOT,
 *                EROFS, EPERM, EACCES or a number
 *   FAULT_ACTION fail (default): return -1 with the error, doing nothing;
 *                kill: SIGKILL the process before the call happens
 *   FAULT_ONCE   a file name: the fault happens only if that file does not
 *                exist yet, and creates it (so, once across processes: a
 *                retry by a later process succeeds; the file shows that
 *                the fault happened)
 *
 * The environment is read once, when the library is loaded: a program that
 * clears its environment (tern-queue does, before it reads the message) is
 * still logged and faulted. A path through /proc/self/fd/N (linkat of an
 * O_TMPFILE file) is logged as what that descriptor names.
 *
 * LD_PRELOAD is ignored for set-id programs; the tests run everything as
 * one user. The log is written with raw system calls, so the library never
 * sees its own writes. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define PATHMAX 4096
#define HEADMAX 96   /* bytes of a write shown in the log */

static unsigned long matched;   /* matching calls seen in this process */

/* FAULT_* as they were at load time (see above). */
static struct { char const *log, *call, *nth, *path, *prog, *err, *action, *once; } cfg;

static char const *keep(char const *name)
{
  char const *v = getenv(name);
  return v && *v ? strdup(v) : 0;
}

__attribute__((constructor)) static void load_config(void)
{
  cfg.log = keep("FAULT_LOG");
  cfg.call = keep("FAULT_CALL");
  cfg.nth = keep("FAULT_NTH");
  cfg.path = keep("FAULT_PATH");
  cfg.prog = keep("FAULT_PROG");
  cfg.err = keep("FAULT_ERRNO");
  cfg.action = keep("FAULT_ACTION");
  cfg.once = keep("FAULT_ONCE");
}

static char const *family_of(char const *sym)
{
  static char const *const fam[][2] = {
    { "fsync", "fsync" }, { "fdatasync", "fdatasync" },
    { "write", "write" }, { "writev", "write" }, { "pwrite", "write" },
    { "pwrite64", "write" }, { "pwritev", "write" },
    { "open", "open" }, { "open64", "open" }, { "openat", "open" }, { "openat64", "open" },
    { "link", "link" }, { "linkat", "link" },
    { "rename", "rename" }, { "renameat", "rename" }, { "renameat2", "rename" },
    { "unlink", "unlink" }, { "unlinkat", "unlink" },
    { "mkdir", "mkdir" }, { "mkdirat", "mkdir" }, { "ftruncate", "ftruncate" },
  };
  size_t i;
  for (i = 0; i < sizeof fam / sizeof *fam; i++) if (!strcmp(sym, fam[i][0])) return fam[i][1];
  return sym;
}

static void *real(char const *sym)
{
  void *f = dlsym(RTLD_NEXT, sym);
  if (!f) { static char const m[] = "faultinject: no symbol\n"; syscall(SYS_write, 2, m, sizeof m - 1); abort(); }
  return f;
}

static void fd_path(int fd, char *out, size_t n)
{
  char link[64];
  ssize_t r;
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  r = readlink(link, out, n - 1);
  if (r < 0) snprintf(out, n, "fd:%d", fd);
  else out[r] = 0;
}

/* The absolute name of path, relative to dirfd (AT_FDCWD: the cwd);
 * /proc/self/fd/N is what descriptor N names. */
static void at_path(int dirfd, char const *path, char *out, size_t n)
{
  char base[PATHMAX];
  if (!path) { snprintf(out, n, "-"); return; }
  if (!strncmp(path, "/proc/self/fd/", 14) && path[14] >= '0' && path[14] <= '9'
   && strspn(path + 14, "0123456789") == strlen(path + 14))
  { fd_path(atoi(path + 14), out, n); return; }
  if (path[0] == '/') { snprintf(out, n, "%s", path); return; }
  if (dirfd == AT_FDCWD) { if (!getcwd(base, sizeof base)) snprintf(base, sizeof base, "?"); }
  else fd_path(dirfd, base, sizeof base);
  if (!path[0]) snprintf(out, n, "%s", base);   /* AT_EMPTY_PATH */
  else
  {
    /* base "/" path, cut at n - 1 bytes */
    size_t bl = strlen(base), pl = strlen(path);
    if (bl > n - 1) bl = n - 1;
    memcpy(out, base, bl);
    if (bl < n - 1) out[bl++] = '/';
    if (pl > n - 1 - bl) pl = n - 1 - bl;
    memcpy(out + bl, path, pl);
    out[bl + pl] = 0;
  }
}

static char const *prog_name(void)
{
  extern char *program_invocation_short_name;
  return program_invocation_short_name ? program_invocation_short_name : "?";
}

static int want_errno(void)
{
  char const *e = cfg.err;
  if (!e || !*e || !strcmp(e, "EIO")) return EIO;
  if (!strcmp(e, "ENOSPC")) return ENOSPC;
  if (!strcmp(e, "EDQUOT")) return EDQUOT;
  if (!strcmp(e, "EROFS")) return EROFS;
  if (!strcmp(e, "EPERM")) return EPERM;
  if (!strcmp(e, "EACCES")) return EACCES;
  return atoi(e) > 0 ? atoi(e) : EIO;
}

/* Should this call be failed (1) or killed (2)? Counts matching calls. */
static int decide(char const *sym, char const *path)
{
  char const *call = cfg.call;
  unsigned long nth = 1;
  if (!call) return 0;
  if (strcmp(call, sym) && strcmp(call, family_of(sym))) return 0;
  if (cfg.prog && strcmp(cfg.prog, prog_name())) return 0;
  if (cfg.path && fnmatch(cfg.path, path, 0)) return 0;
  matched++;
  if (cfg.nth) nth = strtoul(cfg.nth, 0, 10);
  if (nth && matched != nth) return 0;
  if (cfg.once)
  {
    long fd = syscall(SYS_openat, AT_FDCWD, cfg.once, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return 0;
    syscall(SYS_close, fd);
  }
  return cfg.action && !strcmp(cfg.action, "kill") ? 2 : 1;
}

static void put_escaped(char *out, size_t n, void const *data, size_t len)
{
  unsigned char const *d = data;
  size_t i, o = 0;
  for (i = 0; i < len && i < HEADMAX && o + 5 < n; i++)
  {
    if (d[i] >= 32 && d[i] < 127 && d[i] != '\\') out[o++] = (char)d[i];
    else o += (size_t)snprintf(out + o, n - o, "\\x%02x", d[i]);
  }
  out[o] = 0;
}

static void log_call(char const *sym, char const *path, char const *path2, char const *result,
                     void const *data, size_t len)
{
  char const *logf = cfg.log;
  char line[3 * PATHMAX], esc[4 * HEADMAX + 8];
  long fd;
  int n, e = errno;
  if (!logf) return;
  esc[0] = 0;
  if (data) put_escaped(esc, sizeof esc, data, len);
  n = snprintf(line, sizeof line, "%ld\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", (long)getpid(), prog_name(),
               family_of(sym), sym, path, path2 ? path2 : "-", result, esc);
  if (n < 0) { errno = e; return; }
  if ((size_t)n >= sizeof line) { n = sizeof line - 1; line[n - 1] = '\n'; }
  fd = syscall(SYS_openat, AT_FDCWD, logf, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0) { syscall(SYS_write, fd, line, (size_t)n); syscall(SYS_close, fd); }
  errno = e;
}

static void result_text(char *out, size_t n, long r, int e)
{
  if (r >= 0) snprintf(out, n, "%ld", r);
  else snprintf(out, n, "-1 %s", strerrorname_np(e) ? strerrorname_np(e) : "?");
}

/* Runs before the call: logs and returns 1 when the call must fail now
 * (errno set); kills the process for a kill fault. */
static int before(char const *sym, char const *path, char const *path2, void const *data, size_t len)
{
  int d = decide(sym, path);
  if (!d) return 0;
  log_call(sym, path, path2, d == 2 ? "kill" : "fault", data, len);
  if (d == 2) { kill(getpid(), SIGKILL); for (;;) pause(); }
  errno = want_errno();
  return 1;
}

static void after(char const *sym, char const *path, char const *path2, long r, void const *data, size_t len)
{
  char res[64];
  int e = errno;
  result_text(res, sizeof res, r, e);
  log_call(sym, path, path2, res, data, len);
  errno = e;
}

/* --- the interposed calls --- */

#define FD_CALL(sym, ret, proto, args, fd, data, len)                  \
  ret sym proto                                                       \
  {                                                                   \
    static ret (*f) proto;                                            \
    char p[PATHMAX];                                                  \
    ret r;                                                            \
    if (!f) f = real(#sym);                                           \
    fd_path(fd, p, sizeof p);                                         \
    if (before(#sym, p, 0, data, len)) return -1;                     \
    r = f args;                                                       \
    after(#sym, p, 0, (long)r, data, len);                            \
    return r;                                                         \
  }

FD_CALL(fsync, int, (int fd), (fd), fd, 0, 0)
FD_CALL(fdatasync, int, (int fd), (fd), fd, 0, 0)
FD_CALL(ftruncate, int, (int fd, off_t n), (fd, n), fd, 0, 0)
FD_CALL(write, ssize_t, (int fd, void const *b, size_t n), (fd, b, n), fd, b, n)
FD_CALL(pwrite, ssize_t, (int fd, void const *b, size_t n, off_t o), (fd, b, n, o), fd, b, n)
FD_CALL(pwrite64, ssize_t, (int fd, void const *b, size_t n, off_t o), (fd, b, n, o), fd, b, n)
/* The start of what a writev writes, from all its pieces (a circular
 * buffer's flush splits a line in two). */
static char const *iov_head(struct iovec const *v, int c, char *buf, size_t n, size_t *len)
{
  int i;
  *len = 0;
  for (i = 0; i < c && *len < n; i++)
  {
    size_t k = v[i].iov_len < n - *len ? v[i].iov_len : n - *len;
    memcpy(buf + *len, v[i].iov_base, k);
    *len += k;
  }
  return buf;
}

#define IOV_CALL(sym, proto, args)                                     \
  ssize_t sym proto                                                   \
  {                                                                   \
    static ssize_t (*f) proto;                                        \
    char p[PATHMAX], head[HEADMAX];                                   \
    size_t hl;                                                        \
    ssize_t r;                                                        \
    if (!f) f = real(#sym);                                           \
    fd_path(fd, p, sizeof p);                                         \
    iov_head(v, c, head, sizeof head, &hl);                           \
    if (before(#sym, p, 0, head, hl)) return -1;                      \
    r = f args;                                                       \
    after(#sym, p, 0, (long)r, head, hl);                             \
    return r;                                                         \
  }

IOV_CALL(writev, (int fd, struct iovec const *v, int c), (fd, v, c))
IOV_CALL(pwritev, (int fd, struct iovec const *v, int c, off_t o), (fd, v, c, o))

#define PATH2_CALL(sym, proto, args, dfd1, p1, dfd2, p2)               \
  int sym proto                                                       \
  {                                                                   \
    static int (*f) proto;                                            \
    char a[PATHMAX], b[PATHMAX];                                      \
    int r;                                                            \
    if (!f) f = real(#sym);                                           \
    at_path(dfd1, p1, a, sizeof a);                                   \
    at_path(dfd2, p2, b, sizeof b);                                   \
    if (before(#sym, a, b, 0, 0)) return -1;                          \
    r = f args;                                                       \
    after(#sym, a, b, r, 0, 0);                                       \
    return r;                                                         \
  }

PATH2_CALL(link, (char const *o, char const *n), (o, n), AT_FDCWD, o, AT_FDCWD, n)
PATH2_CALL(linkat, (int od, char const *o, int nd, char const *n, int fl), (od, o, nd, n, fl), od, o, nd, n)
PATH2_CALL(rename, (char const *o, char const *n), (o, n), AT_FDCWD, o, AT_FDCWD, n)
PATH2_CALL(renameat, (int od, char const *o, int nd, char const *n), (od, o, nd, n), od, o, nd, n)
PATH2_CALL(renameat2, (int od, char const *o, int nd, char const *n, unsigned int fl), (od, o, nd, n, fl), od, o, nd, n)

#define PATH_CALL(sym, proto, args, dfd, p)                            \
  int sym proto                                                       \
  {                                                                   \
    static int (*f) proto;                                            \
    char a[PATHMAX];                                                  \
    int r;                                                            \
    if (!f) f = real(#sym);                                           \
    at_path(dfd, p, a, sizeof a);                                     \
    if (before(#sym, a, 0, 0, 0)) return -1;                          \
    r = f args;                                                       \
    after(#sym, a, 0, r, 0, 0);                                       \
    return r;                                                         \
  }

PATH_CALL(unlink, (char const *p), (p), AT_FDCWD, p)
PATH_CALL(unlinkat, (int d, char const *p, int fl), (d, p, fl), d, p)
PATH_CALL(mkdir, (char const *p, mode_t m), (p, m), AT_FDCWD, p)
PATH_CALL(mkdirat, (int d, char const *p, mode_t m), (d, p, m), d, p)

/* open: only a create is logged or failed; the mode is there only then. */
static int open_common(char const *sym, int dirfd, char const *path, int flags, mode_t mode)
{
  static int (*fo)(char const *, int, ...), (*fo64)(char const *, int, ...);
  static int (*fa)(int, char const *, int, ...), (*fa64)(int, char const *, int, ...);
  char a[PATHMAX];
  int r, creat = (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
  if (creat)
  {
    at_path(dirfd, path, a, sizeof a);
    if (before(sym, a, 0, 0, 0)) return -1;
  }
  if (!strcmp(sym, "open")) { if (!fo) fo = real("open"); r = fo(path, flags, mode); }
  else if (!strcmp(sym, "open64")) { if (!fo64) fo64 = real("open64"); r = fo64(path, flags, mode); }
  else if (!strcmp(sym, "openat")) { if (!fa) fa = real("openat"); r = fa(dirfd, path, flags, mode); }
  else { if (!fa64) fa64 = real("openat64"); r = fa64(dirfd, path, flags, mode); }
  /* an unnamed file (O_TMPFILE) is logged as what its descriptor names,
   * the name its writes, fsync and linkat are logged under */
  if (creat && r >= 0 && (flags & O_TMPFILE) == O_TMPFILE) fd_path(r, a, sizeof a);
  if (creat) after(sym, a, 0, r, 0, 0);
  return r;
}

static mode_t mode_arg(int flags, va_list ap)
{
  return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

int open(char const *path, int flags, ...)
{
  va_list ap; mode_t m;
  va_start(ap, flags); m = mode_arg(flags, ap); va_end(ap);
  return open_common("open", AT_FDCWD, path, flags, m);
}

int open64(char const *path, int flags, ...)
{
  va_list ap; mode_t m;
  va_start(ap, flags); m = mode_arg(flags, ap); va_end(ap);
  return open_common("open64", AT_FDCWD, path, flags, m);
}

int openat(int dirfd, char const *path, int flags, ...)
{
  va_list ap; mode_t m;
  va_start(ap, flags); m = mode_arg(flags, ap); va_end(ap);
  return open_common("openat", dirfd, path, flags, m);
}

int openat64(int dirfd, char const *path, int flags, ...)
{
  va_list ap; mode_t m;
  va_start(ap, flags); m = mode_arg(flags, ap); va_end(ap);
  return open_common("openat64", dirfd, path, flags, m);
}
