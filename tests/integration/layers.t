#!/usr/bin/env python3
"""The one-way folders (STYLE: nothing calls back up): every folder with a
layers file (smtpd/, send/) is checked by tests/lib/layers.py over the
objects of the build under test (nm) and the #include lines; and the check
itself is shown to fail on a folder that calls back up."""
import os
import subprocess
import tempfile

import layers
import tap

TOP = os.environ.get("TERN_TOP") or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.dirname(os.path.abspath(os.environ["TERN_BIN"]))


def folders():
    return sorted(d for d in os.listdir(TOP) if os.path.isfile(os.path.join(TOP, d, "layers")))


def tiny(tmp, files, order):
    """A folder of small C files compiled into objects, with a layers file."""
    src = os.path.join(tmp, "src")
    obj = os.path.join(tmp, "obj")
    os.makedirs(src)
    os.makedirs(obj)
    for name, text in files.items():
        with open(os.path.join(src, name), "w") as f:
            f.write(text)
    for name in files:
        if name.endswith(".c"):
            subprocess.run(["cc", "-c", "-I", src, "-o", os.path.join(obj, name[:-2] + ".o"),
                            os.path.join(src, name)], check=True)
    with open(os.path.join(src, "layers"), "w") as f:
        for i, names in enumerate(order):
            f.write("l%d: %s\n" % (i, " ".join(names)))
    return src, obj


def self_test():
    files = {
        "low.h": "extern int low(int);\nextern int up_value(void);\n",
        "low.c": '#include "low.h"\nint low(int x) { return x + 1; }\n',
        "up.h": '#include "low.h"\nextern int up(void);\n',
        "up.c": '#include "up.h"\nint up(void) { return low(1); }\nint up_value(void) { return 3; }\n',
    }
    with tempfile.TemporaryDirectory() as tmp:
        src, obj = tiny(tmp, files, [["low"], ["up"]])
        tap.is_(layers.check(src, obj), [], "self-test: a folder that calls only down passes")
    # low.c now calls back up, and includes the upper header
    files["low.c"] = '#include "low.h"\n#include "up.h"\nint low(int x) { return x + up_value(); }\n'
    with tempfile.TemporaryDirectory() as tmp:
        src, obj = tiny(tmp, files, [["low"], ["up"]])
        p = layers.check(src, obj)
        tap.ok(any("low.c (l0) uses up_value of up.c (l1)" in x for x in p),
               "self-test: a call back up is found (nm)", p)
        tap.ok(any("low.c (l0) includes up.h (l1)" in x for x in p),
               "self-test: an include from a layer above is found", p)
    with tempfile.TemporaryDirectory() as tmp:
        src, obj = tiny(tmp, files, [["low", "up"]])
        p = layers.check(src, obj)
        tap.ok(any("uses up_value" in x for x in p), "self-test: a call within one layer is refused too", p)
    with tempfile.TemporaryDirectory() as tmp:
        src, obj = tiny(tmp, files, [["up"]])
        p = layers.check(src, obj)
        tap.ok(any("low (.c/.h) is in no layer" in x for x in p), "self-test: a file in no layer is refused", p)
    # the real smtpd/ with its session put below its parts
    real = layers.read_layers(os.path.join(TOP, "smtpd", "layers"))
    labels = [l for l, _ in real]
    i, j = labels.index("parts"), labels.index("session")
    real[i], real[j] = real[j], real[i]
    p = layers.check(os.path.join(TOP, "smtpd"), os.path.join(BUILD, "smtpd"), real)
    tap.ok(any("smtp_session.c (session) uses smtp_txn_data" in x for x in p),
           "self-test: smtpd/ with the session below its parts fails", p)


def main():
    found = folders()
    tap.ok("smtpd" in found and "send" in found, "smtpd/ and send/ declare their layers", found)
    for d in found:
        p = layers.check(os.path.join(TOP, d), os.path.join(BUILD, d))
        tap.is_(p, [], "%s/ is one-way" % d)
    self_test()


tap.main(main)
