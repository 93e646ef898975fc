#!/usr/bin/env python3
"""check-layers.py LIB: the layering of lib/ (ARCHITECTURE.md) holds.

Each folder of lib/ is a layer, ranked bottom to top; a file may include the
headers of its own layer and of the layers below, never of one above, and the
two targets (registry/, layout/) never include each other. target.h, the
interface the top calls and the targets implement, sits between them. Prints
every include that breaks the rule and exits 1 if there is one; also runs
include-circles.py (a copy of ../shared/tools/include-circles.py) on LIB."""
import os
import re
import subprocess
import sys

RANK = {"core": 0, "sources": 1, "net": 2, "auth": 3, "registry": 4, "layout": 4, "images": 4, "": 5,
        "helm": 5}
SPECIAL = {"target.h": 4}  # the targets' interface: theirs to include

lib = sys.argv[1]
layer_of = {}  # header name -> (folder, rank)
for root, _, files in os.walk(lib):
    folder = os.path.relpath(root, lib)
    folder = "" if folder == "." else folder
    if folder not in RANK:
        print(f"check-layers: {folder}/ is not a known layer: add it to RANK and ARCHITECTURE.md")
        sys.exit(1)
    for f in files:
        if f.endswith(".h"):
            layer_of[f] = (folder, SPECIAL.get(f, RANK[folder]))

bad = 0
for root, _, files in os.walk(lib):
    folder = os.path.relpath(root, lib)
    folder = "" if folder == "." else folder
    rank = RANK[folder]
    for f in sorted(files):
        if not f.endswith((".c", ".h")):
            continue
        path = os.path.join(root, f)
        own_rank = SPECIAL.get(f, rank)
        for n, line in enumerate(open(path, errors="replace"), 1):
            m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
            if not m or os.path.basename(m.group(1)) not in layer_of:
                continue
            inc_folder, inc_rank = layer_of[os.path.basename(m.group(1))]
            above = inc_rank > own_rank
            sideways = {folder, inc_folder} == {"registry", "layout"}
            if above or sideways:
                bad += 1
                why = "a layer above" if above else "the other target"
                print(f"{path}:{n}: includes {m.group(1)}, of {why} ({inc_folder or 'top'}/)")

here = os.path.dirname(os.path.abspath(__file__))
circles = subprocess.run([sys.executable, os.path.join(here, "include-circles.py"), lib])
sys.exit(1 if bad or circles.returncode else 0)
