#!/usr/bin/env python3
"""Time, peak RSS and output size of every qcow2-dump mode and of the mount on the hostile
images of hostile.py, at scales 1, 2, 4 (and 8 where cheap), against the file's size, so that
growth faster than linear in the FILE shows as a growing ratio. Run by scripts/bench --hostile.

    bench_hostile.py --dump QCOW2_DUMP --qcow2fs QCOW2FS [--dir DIR] [--scales 1,2,4,8]
                     [RECIPE...]

Images are made fresh in DIR/<recipe>/s<scale>/ (default /var/tmp/qcow2fs-bench/hostile) and
kept there. One run per cell (a hostile run can take minutes); each run is killed after
BENCH_TIME_LIMIT_S. Once a mode has been killed (time limit, address-space cap) at one scale it
is not run at the larger ones; scale 8 runs only when every mode took under CHEAP_S at scale 4.
"""

import argparse
import os
import shutil
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile  # noqa: E402
import test_hostile as th  # noqa: E402

BENCH_TIME_LIMIT_S = 120
BENCH_OUTPUT_CAP = 4 << 30        # stdout is counted, not stored; killed past this
CHEAP_S = 10                      # scale 8 only when every mode took under this at scale 4
MIB = 1 << 20


def cell_row(recipe, scale, size, mode, status, secs, rss_kib, out_bytes, note=""):
    mib = size / MIB
    rss = "%.1f" % (rss_kib / 1024) if rss_kib is not None else "?"
    rss_ratio = "%.1f" % (rss_kib / 1024 / mib) if rss_kib is not None else "?"
    out = "%.2f" % (out_bytes / MIB) if out_bytes is not None else "-"
    out_ratio = "%.1f" % (out_bytes / size) if out_bytes is not None else "-"
    print("| %-22s | %2d | %7.2f | %-6s | %-9s | %8.2f | %8s | %8s | %7s | %8.3f | %7s | %s" % (
        recipe, scale, mib, mode, status, secs, rss, out, out_ratio, secs / mib, rss_ratio, note),
        flush=True)


def bench_recipe(name, args):
    killed = set()          # modes that were killed at a smaller scale
    scales = [s for s in args.scales if s <= hostile.MAX_SCALE.get(name, 1 << 30)]
    slowest_at_4 = 0.0
    for scale in scales:
        if scale == 8 and 4 in scales and slowest_at_4 >= CHEAP_S:
            print("| %-22s | %2d | skipped: a mode took %.1f s at scale 4 (not cheap)" %
                  (name, scale, slowest_at_4), flush=True)
            continue
        d = os.path.join(args.dir, name, "s%d" % scale)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        try:
            image = hostile.make(name, d, scale)
        except (hostile.RecipeError, subprocess.SubprocessError, OSError) as e:
            print("| %-22s | %2d | could not make the image: %s" % (name, scale, e), flush=True)
            continue
        size = os.path.getsize(image)
        for mode, margs in th.DUMP_MODES:
            if mode in killed:
                cell_row(name, scale, size, mode, "skipped", 0, None, None, "killed at a smaller scale")
                continue
            run = th.measure([args.dump] + margs + [image], BENCH_TIME_LIMIT_S, BENCH_OUTPUT_CAP,
                             0, cwd=d, env=th.tool_env())
            note = run.first_err_line() if run.rc not in th.IMAGE_STATUSES else ""
            if run.timed_out or run.output_exceeded:
                killed.add(mode)   # a larger image would only take longer
            if scale == 4:
                slowest_at_4 = max(slowest_at_4, run.wall)
            cell_row(name, scale, size, mode, run.status_text(), run.wall, run.rss_kib,
                     run.out_bytes, note[:80])
        if "mount" in killed:
            cell_row(name, scale, size, "mount", "skipped", 0, None, None, "killed at a smaller scale")
        elif not th.fuse_unavailable():
            m = th.check_mount(args.qcow2fs, image, d, th.output_bound(size))
            status = ("killed" if m.killed else m.daemon.status_text()) + ("" if not m.failures else " F")
            if m.killed:
                killed.add("mount")
            if scale == 4:
                slowest_at_4 = max(slowest_at_4, m.read_wall)
            cell_row(name, scale, size, "mount", status, m.read_wall, m.daemon.rss_kib, None,
                     ("%d files; " % m.files + "; ".join(m.failures[:2]))[:100])


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dump", required=True)
    ap.add_argument("--qcow2fs", required=True)
    ap.add_argument("--dir", default="/var/tmp/qcow2fs-bench/hostile")
    ap.add_argument("--scales", default="1,2,4,8")
    ap.add_argument("recipes", nargs="*", choices=[[]] + list(hostile.RECIPES), default=[])
    args = ap.parse_args(argv[1:])
    args.scales = [int(s) for s in args.scales.split(",")]
    args.dump = os.path.abspath(args.dump)
    args.qcow2fs = os.path.abspath(args.qcow2fs)
    if not hostile.have_qemu():
        print("bench: qemu-img / qemu-io are not installed")
        return 1
    os.makedirs(args.dir, exist_ok=True)
    print("machine: %d cores, %s; %s" % (os.cpu_count(), os.uname().release,
                                          time.strftime("%Y-%m-%d", time.gmtime())))
    print("one run per cell, killed after %d s; address space capped at %d GiB; images in %s"
          % (BENCH_TIME_LIMIT_S, th.ADDRESS_SPACE_CAP >> 30, args.dir))
    print("time s/MiB, RSS/MiB and out/file are per MiB (byte) of the image FILE: constant "
          "across scales = linear growth")
    print("mount: time = mount visible -> the test's reads done (every top-level file, samples "
          "of l2/ refcount/ snapshots/), RSS = the daemon's peak; exit = the daemon's, "
          "F = a property of test_hostile.py failed (see note)")
    print()
    print("| recipe                 | sc | file MiB | mode   | exit      | time s   | RSS MiB  "
          "| out MiB  | out/file| s/MiB    | RSS/MiB | note")
    print("|------------------------|----|----------|--------|-----------|----------|----------"
          "|----------|---------|----------|---------|-----")
    for name in args.recipes or list(hostile.RECIPES):
        bench_recipe(name, args)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
