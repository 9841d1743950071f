/* relay.c: unit tests for the POP-before-SMTP records (lib/relay_db.c). */
#include <stdlib.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include "tap.h"
#include "../../lib/relay_db.h"

static char const *name_of(char const *ip)
{
  static char out[RELAY_NAME_MAX];
  return relay_name(out, ip) ? out : "(invalid)";
}

static void test_names(void)
{
  is_str(name_of("127.0.0.5"), "127.0.0.5", "IPv4 kept");
  is_str(name_of("::1"), "::1", "IPv6 loopback kept");
  is_str(name_of("2001:DB8:0:0:0:0:0:1"), "2001:db8::1", "IPv6 canonical: lower case, compressed");
  is_str(name_of("::ffff:192.0.2.7"), "192.0.2.7", "IPv4-mapped IPv6 becomes IPv4");
  is_str(name_of("../../etc/passwd"), "(invalid)", "path refused");
  is_str(name_of("127.0.0.5/../x"), "(invalid)", "trailing slash part refused");
  is_str(name_of(".127.0.0.5"), "(invalid)", "leading dot refused");
  is_str(name_of("127.0.0.5 "), "(invalid)", "trailing blank refused");
  is_str(name_of(""), "(invalid)", "empty refused");
  is_str(name_of("1.2.3"), "(invalid)", "short IPv4 refused");
  is_str(name_of("1.2.3.256"), "(invalid)", "octet out of range refused");
  is_str(name_of("01.2.3.4"), "(invalid)", "leading zero refused");
  is_str(name_of("::ffff:0102:0304"), "1.2.3.4", "IPv4-mapped in hex becomes IPv4");
  is_str(name_of("::ffff:1.2.3.256"), "(invalid)", "bad IPv4-mapped refused");
  is_str(name_of("fe80::1%eth0"), "(invalid)", "zone index refused");
  is_str(name_of("0000000000000000000000000000000000000000000000000000001.2.3.4"), "(invalid)", "overlong text refused");
}

static time_t mtime_of(char const *path)
{
  struct stat st;
  return stat(path, &st) < 0 ? (time_t)-1 : st.st_mtime;
}

static void set_mtime(char const *path, time_t t)
{
  struct timespec ts[2] = { { t, 0 }, { t, 0 } };
  utimensat(AT_FDCWD, path, ts, 0);
}

static void test_records(void)
{
  char dir[] = "/tmp/tern-relay-unit-XXXXXX";
  char path[128];
  time_t now = time(0);
  if (!mkdtemp(dir)) { ok(0, "mkdtemp"); return; }
  is_int(relay_fresh(dir, "10.0.0.1", now, 600), 0, "no record: not fresh");
  is_int(relay_record(dir, "10.0.0.1"), 1, "record written");
  snprintf(path, sizeof path, "%s/10.0.0.1", dir);
  ok(mtime_of(path) >= now - 1 && mtime_of(path) <= now + 5, "mtime is the login time");
  is_int(relay_fresh(dir, "10.0.0.1", now, 600), 1, "fresh record honoured");
  is_int(relay_fresh(dir, "10.0.0.1", now + 599, 600), 1, "still fresh just before expiry");
  set_mtime(path, now - 601);
  is_int(relay_fresh(dir, "10.0.0.1", now, 600), 0, "stale record not honoured");
  ok(access(path, F_OK) < 0, "stale record removed");
  is_int(relay_record(dir, "10.0.0.2"), 1, "second record");
  snprintf(path, sizeof path, "%s/10.0.0.2", dir);
  set_mtime(path, now + 100000);
  is_int(relay_fresh(dir, "10.0.0.2", now, 600), 0, "record far in the future not honoured");

  relay_record(dir, "10.0.0.3");
  relay_record(dir, "10.0.0.4");
  snprintf(path, sizeof path, "%s/10.0.0.4", dir);
  set_mtime(path, now - 700);
  snprintf(path, sizeof path, "%s/.tmp.10.0.0.9.123", dir);
  close(open(path, O_WRONLY | O_CREAT, 0644));
  set_mtime(path, now - 7200);
  snprintf(path, sizeof path, "%s/notes", dir);
  close(open(path, O_WRONLY | O_CREAT, 0644));
  set_mtime(path, now - 7200);
  is_int(relay_sweep(dir, now, 600), 2, "sweep removes the stale record and the old temporary file");
  snprintf(path, sizeof path, "%s/10.0.0.3", dir);
  ok(access(path, F_OK) == 0, "sweep keeps the fresh record");
  snprintf(path, sizeof path, "%s/notes", dir);
  ok(access(path, F_OK) == 0, "sweep leaves files that are not records alone");
  unlink(path);

  is_int(relay_sweep_due(dir, now, 60), 1, "first sweep is due");
  is_int(relay_sweep_due(dir, now + 10, 60), 0, "next sweep not due within the minute");
  is_int(relay_sweep_due(dir, now + 61, 60), 1, "sweep due after a minute");
  is_int(relay_record("/nonexistent/tern", "10.0.0.1"), -1, "missing directory reported");

  snprintf(path, sizeof path, "rm -rf %s", dir);
  if (system(path)) ok(0, "cleanup");
}

static void test_settings(void)
{
  unsigned int m;
  stralloc sa = STRALLOC_ZERO;
  setenv("TERN_HOME", "/nonexistent-home", 1);
  unsetenv("RELAY_EXPIRY");
  unsetenv("RELAY_DIR");
  ok(relay_expiry(&m) == 1 && m == 180, "expiry defaults to 180 minutes");
  setenv("RELAY_EXPIRY", "5", 1);
  ok(relay_expiry(&m) == 1 && m == 5, "RELAY_EXPIRY overrides");
  setenv("RELAY_EXPIRY", "5m", 1);
  is_int(relay_expiry(&m), -1, "RELAY_EXPIRY with junk refused");
  setenv("RELAY_EXPIRY", "99999999999", 1);
  is_int(relay_expiry(&m), -1, "RELAY_EXPIRY out of range refused");
  ok(relay_dir(&sa) == 1 && !strcmp(sa.s, "/nonexistent-home/relay"), "relay dir defaults to $TERN_HOME/relay");
  setenv("RELAY_DIR", "/srv/relay", 1);
  ok(relay_dir(&sa) == 1 && !strcmp(sa.s, "/srv/relay"), "RELAY_DIR overrides");
  stralloc_free(&sa);
}

int main(void)
{
  test_names();
  test_records();
  test_settings();
  return done_testing();
}
