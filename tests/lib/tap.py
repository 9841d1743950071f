"""tap.py: TAP output for the integration tests (prove reads it)."""
import sys
import traceback

_n = 0
_failed = 0


def ok(cond, name, diag=None):
    global _n, _failed
    _n += 1
    if not cond:
        _failed += 1
    print(("ok" if cond else "not ok") + " %d - %s" % (_n, name), flush=True)
    if not cond and diag is not None:
        note(diag)
    return bool(cond)


def is_(got, want, name):
    return ok(got == want, name, "got %r, want %r" % (got, want))


def like(got, needle, name):
    """needle must occur in got (str or bytes)."""
    return ok(got is not None and needle in got, name, "%r does not contain %r" % (got, needle))


def note(msg):
    for line in str(msg).splitlines() or [""]:
        print("# " + line, flush=True)


def skip_all(reason):
    print("1..0 # SKIP " + reason, flush=True)
    sys.exit(0)


def done():
    print("1..%d" % _n, flush=True)
    sys.exit(1 if _failed else 0)


def main(fn):
    """Runs fn(); an exception becomes a failed test, then the plan is printed."""
    try:
        fn()
    except SystemExit:
        raise
    except BaseException:
        ok(False, "test script raised", traceback.format_exc())
    done()
