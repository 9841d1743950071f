/* asan_options.c: linked into every program of a sanitizer build (make
 * test-asan). Programs started by s6 or through setuid tern-queue do not
 * inherit ASAN_OPTIONS from the test, and LeakSanitizer would fail them for
 * memory still held at exit (harmless: each exits after one job) or, in a
 * setuid program, because it cannot trace itself. Errors are still fatal. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
  return "detect_leaks=0";
}
