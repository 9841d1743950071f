#!/usr/bin/env python3
# Every libFuzzer target (built by make fuzz into $TERN_FUZZ) runs a few
# seconds over its seed corpus: a crash or a broken property fails the suite.
import os
import subprocess
import sys

top = os.environ.get("TERN_TOP") or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
d = os.environ.get("TERN_FUZZ") or os.path.join(top, "build-fuzz", "fuzz")
if not os.path.isdir(d):
    print("1..1\nnot ok 1 - fuzz targets not built in %s (make fuzz)" % d)
    sys.exit(1)
sys.exit(subprocess.call([os.path.join(top, "tests", "fuzz", "smoke"), d, os.environ.get("TERN_FUZZ_SECONDS", "3")]))
