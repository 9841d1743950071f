/* Fuzz the whole tern-smtpd dialogue: the input is what a client sends (any
 * bytes, pipelined), the session runs over it as over a socket, replies go to
 * /dev/null. No input may crash it, hang it, or let a relay through: the
 * instance's rcpthosts holds only tern.fuzz, so every foreign RCPT that gets
 * 250 is a finding (the queue program records what it was given). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <skalibs/djbunix.h>
#include "fuzz.h"
#include "../../smtpd/smtp_conf.h"
#include "../../smtpd/smtp_relay.h"
#include "../../smtpd/smtp_session.h"

static smtp_conf conf = SMTP_CONF_ZERO;
static relay rel = RELAY_ZERO;
static int devnull = -1;

static void put(char const *dir, char const *name, char const *text)
{
  char path[256];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FUZZ_ASSERT(openwritenclose_unsafe(path, text, strlen(text)));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  static char home[] = "/tmp/tern-fuzz-home-XXXXXX";
  char const *what;
  char ctl[300];
  (void)argc; (void)argv;
  signal(SIGPIPE, SIG_IGN);   /* as tern-smtpd does: a dead queue program is an error, not a signal */
  FUZZ_ASSERT(mkdtemp(home));
  snprintf(ctl, sizeof ctl, "%s/control", home);
  FUZZ_ASSERT(mkdir(ctl, 0755) == 0);
  put(ctl, "me", "mx.tern.fuzz\n");
  put(ctl, "rcpthosts", "tern.fuzz\n.sub.tern.fuzz\n");
  put(ctl, "databytes", "20000\n");
  put(ctl, "timeoutsmtpd", "2\n");
  setenv("TERN_HOME", home, 1);
  FUZZ_ASSERT(smtp_conf_load(&conf, &what));
  FUZZ_ASSERT(relay_load(&rel));
  devnull = open("/dev/null", O_WRONLY);
  FUZZ_ASSERT(devnull >= 0);
  return 0;
}

int LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
  smtp_session s;
  int fd = memfd_create("in", 0);
  if (fd < 0) return 0;
  if (write(fd, data, size) != (ssize_t)size || lseek(fd, 0, SEEK_SET) != 0) { close(fd); return 0; }
  /* the queue program does not exist: DATA ends in a temporary refusal
   * after the whole parse, which is what we exercise */
  smtp_session_init(&s, &conf, &rel, "/nonexistent/tern-queue");
  smtp_io_setfds(&s.io, fd, devnull);
  s.remoteip = "192.0.2.7";
  smtp_session_run(&s);
  smtp_session_free(&s);
  close(fd);
  return 0;
}
