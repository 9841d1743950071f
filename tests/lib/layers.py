"""layers.py: checks that a program folder is one-way (STYLE: "the loop
calls the policy, the policy calls the model, and nothing calls back up").

A folder that declares its layers has a file DIR/layers: one layer a line,
lowest first, as "label: name name ...". A name covers name.c and name.h of
the folder. A file may use only what the lines above its own define:

- symbols: every undefined symbol of build/DIR/NAME.o that another object of
  the folder defines must be defined by a file of a line above (nm);
- headers: every #include "X.h" of NAME.c or NAME.h naming a header of the
  folder must be its own (X == NAME) or belong to a line above (types and
  struct layouts are dependencies too, and nm cannot see them).

Every .c and .h of the folder must be named exactly once, so that a new file
has to be placed. tests/integration/layers.t runs this on every folder with
a layers file; `python3 tests/lib/layers.py BUILDDIR DIR...` prints the
problems of those folders (exit 1 when there are any)."""
import os
import re
import subprocess
import sys

# skalibs's program name: every main sets it, helpers read it for messages
IGNORED = {"PROG"}

INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"/]+)\.h"', re.M)


def read_layers(path):
    """[(label, [names])], lowest first; '#' starts a comment."""
    out = []
    with open(path) as f:
        for raw in f:
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            label, sep, names = line.partition(":")
            if not sep or not names.split():
                raise ValueError("%s: not 'label: name...': %r" % (path, raw.rstrip("\n")))
            out.append((label.strip(), names.split()))
    return out


def _nm(args):
    r = subprocess.run(["nm"] + args, capture_output=True, text=True, check=True)
    return r.stdout


def symbols(obj):
    """(defined, undefined) global symbol sets of one object file."""
    defined, undefined = set(), set()
    for line in _nm(["-g", obj]).splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "U":
            undefined.add(parts[1])
        elif len(parts) == 3 and parts[1] in "TDBRCGSV":
            defined.add(parts[2])
    return defined, undefined


def check(srcdir, objdir, layers=None):
    """The problems of one folder, as sentences (empty: one-way)."""
    problems = []
    if layers is None:
        layers = read_layers(os.path.join(srcdir, "layers"))
    rank = {}
    for i, (label, names) in enumerate(layers):
        for n in names:
            if n in rank:
                problems.append("%s is named twice in the layers" % n)
            rank[n] = i
    label = {n: layers[r][0] for n, r in rank.items()}
    files = sorted(f for f in os.listdir(srcdir) if f.endswith((".c", ".h")))
    present = {f[:-2] for f in files}
    for n in sorted(present - set(rank)):
        problems.append("%s (.c/.h) is in no layer: add it to %s/layers" % (n, os.path.basename(srcdir)))
    for n in sorted(set(rank) - present):
        problems.append("%s is in the layers but has no .c or .h" % n)

    # headers
    for f in files:
        me = f[:-2]
        if me not in rank:
            continue
        with open(os.path.join(srcdir, f), errors="replace") as fh:
            text = fh.read()
        for inc in INCLUDE.findall(text):
            if inc == me or inc not in rank:
                continue
            if rank[inc] >= rank[me]:
                problems.append("%s (%s) includes %s.h (%s): not from a layer below"
                                % (f, label[me], inc, label[inc]))

    # symbols
    defs, undefs = {}, {}
    for n in rank:
        obj = os.path.join(objdir, n + ".o")
        if os.path.exists(obj):
            defs[n], undefs[n] = symbols(obj)
        elif os.path.exists(os.path.join(srcdir, n + ".c")):
            problems.append("%s has no object to check (build first)" % obj)
    owner = {}
    for n, d in defs.items():
        for s in d:
            owner.setdefault(s, n)
    for n in sorted(undefs):
        for s in sorted(undefs[n] - IGNORED):
            o = owner.get(s)
            if o is None or o == n:
                continue
            if rank[o] >= rank[n]:
                problems.append("%s.c (%s) uses %s of %s.c (%s): not from a layer below"
                                % (n, label[n], s, o, label[o]))
    return problems


def main(argv):
    if len(argv) < 3:
        sys.stderr.write("usage: layers.py BUILDDIR DIR...\n")
        return 100
    top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    bad = 0
    for d in argv[2:]:
        for p in check(os.path.join(top, d), os.path.join(argv[1], d)):
            print("%s: %s" % (d, p))
            bad = 1
    return bad


if __name__ == "__main__":
    sys.exit(main(sys.argv))
