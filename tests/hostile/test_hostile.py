#!/usr/bin/env python3
"""Acceptance tests for hostile images (tests/hostile/hostile.py): every qcow2-dump mode and
the mount must stay within time, memory and output bounds that grow with the FILE's size,
whatever counts the file claims, and must never crash, hang or write.

    test_hostile.py --dump QCOW2_DUMP --qcow2fs QCOW2FS --poke QCOW2_POKE [--recipe NAME]...
                    [--keep DIR] [--scale N]

Without --recipe every recipe runs. Only properties that hold whatever the engine decides to
report are asserted (see check_run and check_mount). Exit status: 0 all passed, 1 a check
failed, 77 skipped (qemu-img/qemu-io missing), 2 usage.

QCOW2_SANITIZED=1 (the ASan build): no memory limit, time limits x SANITIZED_TIME_FACTOR.
QCOW2_KEEP_TEMP=1: keep the temporary directory (also --keep DIR).

python3 standard library only. The reader that walks the mount runs in a child process
(this file with --read-tree) so that a hung FUSE request can be killed.
"""

import argparse
import errno
import hashlib
import json
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile  # noqa: E402

# --- limits (generous: healthy runs take well under a second and ~5-20 MiB) -------------

TIME_LIMIT_S = 60                 # one qcow2-dump run; it is killed after this
MOUNT_TIME_LIMIT_S = 60           # the mount's reads (from mount visible to last read)
MOUNT_START_LIMIT_S = 20          # qcow2fs start -> mount visible
UNMOUNT_LIMIT_S = 20              # fusermount3 -u -> daemon exit
RSS_LIMIT_KIB = 512 * 1024        # peak RSS of any one process
SANITIZED_TIME_FACTOR = 5         # QCOW2_SANITIZED=1: time limits x this, no RSS limit
OUTPUT_PER_FILE_BYTE = 64         # text output <= 64 x file size + OUTPUT_SLACK
OUTPUT_SLACK = 1 << 20
# Not an assertion: a cap on each tool's address space so that a blow-up to GBs fails fast
# (bad_alloc) instead of squeezing the other users of this shared machine. Far above
# RSS_LIMIT_KIB. Not applied under ASan, which reserves terabytes of address space.
ADDRESS_SPACE_CAP = 4 << 30
SAMPLE = 4                        # files read from each of l2/, refcount/, snapshots/*/...
SAMPLE_SNAPSHOTS = 4              # snapshot directories visited

IMAGE_STATUSES = range(0, 7)      # 0..6: the image's status
TOOL_FAILURES = (64, 65, 66)      # usage, not qcow2, cannot open: one stderr line

SANITIZED = os.environ.get("QCOW2_SANITIZED") == "1"
TIME_FACTOR = SANITIZED_TIME_FACTOR if SANITIZED else 1

DUMP_MODES = [
    ("check", []),
    ("error", ["-m", "error"]),
    ("json", ["--output=json"]),
    ("info", ["-m", "info"]),
    ("dump", ["-m", "dump"]),
    ("dump-f", ["-m", "dump", "-f"]),
]

SANITIZER_MARKS = (b"AddressSanitizer", b"UndefinedBehaviorSanitizer", b"runtime error:",
                   b"LeakSanitizer")


def output_bound(image_size):
    return OUTPUT_PER_FILE_BYTE * image_size + OUTPUT_SLACK


# --- running one measured process ---------------------------------------------------------


class Run:
    """One process run under /usr/bin/time -f %M: exit, wall time, peak RSS, output."""

    def __init__(self):
        self.rc = None            # exit status (None if unknown)
        self.signal = None        # the signal that ended it, if any
        self.wall = 0.0
        self.rss_kib = None
        self.out_bytes = 0
        self.out = b""            # stdout kept (up to keep_bytes)
        self.err = b""            # the first 64 KiB of stderr
        self.timed_out = False
        self.output_exceeded = False

    def first_err_line(self):
        lines = self.err.decode("utf-8", "replace").strip().splitlines()
        return lines[0][:200] if lines else ""

    def status_text(self):
        if self.timed_out:
            return "timeout"
        if self.output_exceeded:
            return "out-cap"
        if self.signal is not None:
            return "signal %d" % self.signal
        return "exit %s" % self.rc

    def summary(self):
        rss = "%.1f MiB" % (self.rss_kib / 1024) if self.rss_kib is not None else "? MiB"
        return "%s, %.2f s, %s, %d bytes out" % (self.status_text(), self.wall, rss, self.out_bytes)


def _limit_address_space():
    if not SANITIZED:
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_CAP, ADDRESS_SPACE_CAP))


def _children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def _kill_measured(proc):
    """Kills the measured program (time's child) so that time still reports its RSS; then
    the whole process group if anything is left."""
    for c in _children(proc.pid):
        try:
            os.kill(c, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def _parse_time_file(path, run):
    try:
        with open(path) as f:
            lines = f.read().strip().splitlines()
    except OSError:
        return
    for line in lines:
        if line.startswith("Command terminated by signal"):
            run.signal = int(line.split()[-1])
    if lines and lines[-1].strip().isdigit():
        run.rss_kib = int(lines[-1])


def measure(argv, time_limit, out_limit, keep_bytes, cwd=None, env=None):
    """Runs argv (stdin /dev/null) under GNU time; kills it after time_limit seconds or once
    stdout exceeds out_limit bytes. Keeps the first keep_bytes of stdout."""
    run = Run()
    with tempfile.TemporaryDirectory(prefix="hostile-measure.") as t:
        tfile = os.path.join(t, "time")
        efile = os.path.join(t, "stderr")
        with open(efile, "wb") as err:
            start = time.monotonic()
            proc = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", tfile] + argv,
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
                                    cwd=cwd, env=env, start_new_session=True,
                                    preexec_fn=_limit_address_space)
            kept = []
            kept_len = [0]

            def pump():
                while True:
                    chunk = proc.stdout.read(1 << 16)
                    if not chunk:
                        return
                    run.out_bytes += len(chunk)
                    if kept_len[0] < keep_bytes:
                        kept.append(chunk[:keep_bytes - kept_len[0]])
                        kept_len[0] += len(kept[-1])
                    if run.out_bytes > out_limit and not run.output_exceeded:
                        run.output_exceeded = True
                        _kill_measured_async(proc)

            reader = threading.Thread(target=pump, daemon=True)
            reader.start()
            try:
                proc.wait(timeout=time_limit)
            except subprocess.TimeoutExpired:
                run.timed_out = True
                _kill_measured(proc)
            run.wall = time.monotonic() - start
            reader.join(timeout=10)
            proc.stdout.close()
            run.rc = proc.returncode
        run.out = b"".join(kept)
        with open(efile, "rb") as f:
            run.err = f.read(1 << 16)
        _parse_time_file(tfile, run)
        if run.signal is None and run.rc is not None and run.rc > 128 and not os.path.exists(tfile):
            run.signal = run.rc - 128
    return run


def _kill_measured_async(proc):
    for c in _children(proc.pid):
        try:
            os.kill(c, signal.SIGKILL)
        except ProcessLookupError:
            pass


def tool_env():
    env = dict(os.environ)
    # Sanitizer reports must end the process visibly (a signal), never as exit 1.
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=1")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    env["LC_ALL"] = "C"
    return env


# --- the properties -----------------------------------------------------------------------


def check_run(mode, run, image_size, time_limit, is_json):
    """The failures (strings) of one qcow2-dump run."""
    bad = []
    if run.timed_out:
        bad.append("did not finish within %d s (killed)" % time_limit)
    elif run.output_exceeded:
        pass  # killed by us at the output bound: reported below
    elif run.signal is not None:
        bad.append("killed by signal %d" % run.signal)
    elif run.rc == 70:
        bad.append("internal error (exit 70)")
    elif run.rc in TOOL_FAILURES:
        lines = run.err.decode("utf-8", "replace").strip("\n").split("\n")
        if len(lines) != 1 or not lines[0].strip():
            bad.append("exit %d needs exactly one stderr line naming the problem, got %d"
                       % (run.rc, len(lines) if lines != [""] else 0))
    elif run.rc not in IMAGE_STATUSES:
        bad.append("exit %s is neither an image status (0..6) nor 64/65/66" % run.rc)
    if any(m in run.err for m in SANITIZER_MARKS):
        bad.append("sanitizer report on stderr")
    if not run.timed_out and run.wall > time_limit:
        bad.append("took %.1f s (limit %d s)" % (run.wall, time_limit))
    if not SANITIZED and run.rss_kib is not None and run.rss_kib > RSS_LIMIT_KIB:
        bad.append("peak RSS %.0f MiB (limit %d MiB)" % (run.rss_kib / 1024, RSS_LIMIT_KIB // 1024))
    bound = output_bound(image_size)
    if run.output_exceeded or run.out_bytes > bound:
        bad.append("stdout over %d bytes (64 x file size + 1 MiB; killed at the bound)" % bound)
    if is_json and not run.output_exceeded and not run.timed_out and run.signal is None:
        if run.rc in IMAGE_STATUSES or run.out:
            try:
                json.loads(run.out.decode("utf-8", "strict"))
            except UnicodeDecodeError as e:
                bad.append("JSON output is not UTF-8: %s" % e)
            except ValueError as e:
                bad.append("JSON output does not parse: %s" % e)
    return bad


# --- the mount ----------------------------------------------------------------------------


def is_mounted(path):
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if len(fields) > 4 and fields[4] == path:
                return True
    return False


def mounts_under(directory):
    prefix = os.path.abspath(directory) + "/"
    with open("/proc/self/mountinfo") as f:
        return [fields[4] for fields in (line.split() for line in f)
                if len(fields) > 4 and fields[4].startswith(prefix)]


def fuse_unavailable():
    if not os.path.exists("/dev/fuse"):
        return "/dev/fuse is absent"
    if shutil.which("fusermount3") is None:
        return "fusermount3 is not installed"
    return ""


class MountResult:
    def __init__(self):
        self.failures = []
        self.daemon = Run()        # the daemon's exit, wall time (whole life), peak RSS
        self.read_wall = 0.0       # mount visible -> last read done
        self.files = 0             # files read
        self.errors = 0            # reads that failed with an errno
        self.biggest = 0           # largest st_size seen
        self.biggest_path = ""
        self.killed = False        # the reads or the daemon had to be killed (a hang)


def check_mount(qcow2fs, image, workdir, bound):
    """Mounts image with qcow2fs -f, reads the tree in a child process, unmounts; returns a
    MountResult whose failures list what broke. Always unmounts and reaps the daemon."""
    res = MountResult()
    mnt = os.path.join(workdir, "mnt")
    os.makedirs(mnt, exist_ok=True)
    tfile = os.path.join(workdir, "qcow2fs.time")
    log = os.path.join(workdir, "qcow2fs.log")
    start_limit = MOUNT_START_LIMIT_S * TIME_FACTOR
    read_limit = MOUNT_TIME_LIMIT_S * TIME_FACTOR
    umount_limit = UNMOUNT_LIMIT_S * TIME_FACTOR
    started = time.monotonic()
    with open(log, "wb") as logf:
        daemon = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", tfile, qcow2fs, image, mnt,
                                   "-f"], stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                                  env=tool_env(), start_new_session=True,
                                  preexec_fn=_limit_address_space)
    try:
        while not is_mounted(mnt):
            if daemon.poll() is not None:
                res.failures.append("qcow2fs exited (%s) before mounting" % daemon.returncode)
                return res
            if time.monotonic() - started > start_limit:
                res.failures.append("not mounted %d s after qcow2fs started" % start_limit)
                return res
            time.sleep(0.01)
        visible = time.monotonic()
        reader = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--read-tree", mnt,
                                   "--bound", str(bound)],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, start_new_session=True)
        try:
            out, err = reader.communicate(timeout=read_limit)
        except subprocess.TimeoutExpired:
            os.killpg(reader.pid, signal.SIGKILL)
            out, err = reader.communicate()
            res.failures.append("reading the tree did not finish within %d s" % read_limit)
            res.killed = True
        res.read_wall = time.monotonic() - visible
        report = None
        for line in out.decode("utf-8", "replace").splitlines():
            rec = json.loads(line)
            if rec.get("kind") == "summary":
                report = rec
                continue
            res.files += 1
            if rec.get("errno"):
                res.errors += 1
            if rec.get("size", 0) > res.biggest:
                res.biggest, res.biggest_path = rec["size"], rec["path"]
            for problem in rec.get("problems", []):
                res.failures.append("%s: %s" % (rec["path"], problem))
        if report is None and not res.failures:
            res.failures.append("the tree reader failed: %s"
                                % err.decode("utf-8", "replace").strip()[-300:])
        elif report is not None and not report.get("header_after_ok"):
            res.failures.append("cat header after the reads failed: %s" % report.get("header_after"))
        if daemon.poll() is not None:
            res.failures.append("the daemon died during the reads (%s)" % daemon.returncode)
        elif not is_mounted(mnt):
            res.failures.append("the mount disappeared during the reads")
    finally:
        unmount_started = time.monotonic()
        for flag in ("-u", "-uz"):
            if is_mounted(mnt):
                subprocess.run(["fusermount3", flag, mnt], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=30)
        try:
            daemon.wait(timeout=umount_limit)
        except subprocess.TimeoutExpired:
            res.failures.append("the daemon did not exit within %d s of the unmount" % umount_limit)
            res.killed = True
            _kill_measured(daemon)
        res.daemon.wall = time.monotonic() - started
        res.daemon.rc = daemon.returncode
        _parse_time_file(tfile, res.daemon)
        with open(log, "rb") as f:
            res.daemon.err = f.read(1 << 16)
        if is_mounted(mnt):
            subprocess.run(["fusermount3", "-uz", mnt], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=30)
    d = res.daemon
    first = []   # the daemon's own failures come first: they explain the rest
    if d.signal is not None:
        first.append("the daemon was killed by signal %d" % d.signal)
    elif d.rc != 0:
        first.append("the daemon exited %s after the unmount (want 0)" % d.rc)
    if any(m in d.err for m in SANITIZER_MARKS):
        first.append("sanitizer report in the daemon's output")
    if not SANITIZED and d.rss_kib is not None and d.rss_kib > RSS_LIMIT_KIB:
        first.append("daemon peak RSS %.0f MiB (limit %d MiB)"
                     % (d.rss_kib / 1024, RSS_LIMIT_KIB // 1024))
    res.failures = first + res.failures
    return res


# --- the tree reader (child process) ------------------------------------------------------


def read_tree(mnt, bound):
    """Stats and reads every top-level file, all of extensions/ and ctl/, and SAMPLE files of
    l2/, refcount/ and of SAMPLE_SNAPSHOTS snapshot directories (their info, l1, l2/). One
    JSON line per file: path, size, read bytes, errno, problems; then a summary line."""
    root = os.fsencode(mnt)

    def emit(rec):
        sys.stdout.write(json.dumps(rec) + "\n")
        sys.stdout.flush()

    def read_file(path):
        rel = os.fsdecode(os.path.relpath(path, root))
        rec = {"kind": "file", "path": rel, "problems": []}
        t0 = time.monotonic()
        try:
            st = os.stat(path)
            rec["size"] = st.st_size
            if st.st_size > bound:
                rec["problems"].append("st_size %d is over the bound %d" % (st.st_size, bound))
            got = 0
            with open(path, "rb", buffering=0) as f:
                while got <= bound:
                    chunk = f.read(1 << 20)
                    if not chunk:
                        break
                    got += len(chunk)
            rec["read"] = got
            if got > bound:
                rec["problems"].append("read more than the bound %d bytes (stopped there)" % bound)
            if rel == "report.json" and got <= bound:
                with open(path, "rb") as f:
                    data = f.read()
                try:
                    json.loads(data.decode("utf-8", "strict"))
                except ValueError as e:  # UnicodeDecodeError is a ValueError
                    rec["problems"].append("report.json is not UTF-8 JSON: %s" % str(e)[:200])
        except OSError as e:
            rec["errno"] = e.errno
            rec["error"] = os.strerror(e.errno) if e.errno else str(e)
            if e.errno in (errno.ENOTCONN, errno.ECONNABORTED):
                rec["problems"].append("the mount is gone (%s)" % rec["error"])
        rec["seconds"] = round(time.monotonic() - t0, 3)
        emit(rec)

    def entries(d, limit):
        """Up to limit (name, is_dir) of directory d, in readdir order; errors as a record."""
        out = []
        try:
            with os.scandir(d) as it:
                for e in it:
                    out.append((e.path, e.is_dir(follow_symlinks=False)))
                    if len(out) >= limit:
                        break
        except OSError as e:
            emit({"kind": "file", "path": os.fsdecode(os.path.relpath(d, root)) + "/",
                  "errno": e.errno, "error": os.strerror(e.errno or 0), "problems":
                  ["the mount is gone"] if e.errno in (errno.ENOTCONN, errno.ECONNABORTED) else []})
        return out

    def sample_dir(d, depth):
        for path, is_dir in entries(d, SAMPLE if depth else 1 << 16):
            if not is_dir:
                read_file(path)

    for path, is_dir in entries(root, 1 << 16):
        name = os.path.basename(path)
        if not is_dir:
            read_file(path)
        elif name in (b"extensions", b"ctl"):
            for p, sub in entries(path, 256):
                if not sub:
                    read_file(p)
        elif name in (b"l2", b"refcount"):
            sample_dir(path, 1)
        elif name == b"snapshots":
            for snap, sub in entries(path, SAMPLE_SNAPSHOTS):
                if not sub:
                    read_file(snap)
                    continue
                for p, subsub in entries(snap, 64):
                    if not subsub:
                        read_file(p)
                    else:
                        sample_dir(p, 1)
        else:
            sample_dir(path, 1)
    summary = {"kind": "summary", "header_after_ok": False}
    try:
        with open(os.path.join(root, b"header"), "rb") as f:
            data = f.read(1 << 20)
        summary["header_after_ok"] = len(data) > 0
        summary["header_after"] = "%d bytes" % len(data)
    except OSError as e:
        summary["header_after"] = os.strerror(e.errno or 0)
    emit(summary)
    return 0


# --- one recipe, every mode ---------------------------------------------------------------


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def quote(argv):
    return " ".join("'%s'" % a if any(c in a for c in " ;'\"") else a for a in argv)


def repro(name, scale, image, argv):
    """A command line that remakes the image (in /tmp/hostile-repro) and runs argv on it."""
    d = "/tmp/hostile-repro"
    make = ["python3", os.path.join(os.path.dirname(os.path.abspath(__file__)), "hostile.py"),
            d, name] + (["--scale", str(scale)] if scale != 1 else [])
    run = [os.path.basename(image) if a == image else a for a in argv]
    return "%s && cd %s/%s && %s" % (quote(make), d, name, quote(run))


def run_recipe(name, args, workdir):
    """Makes the recipe's image and runs every mode; returns (rows, failures). A row is
    (mode, Run-like summary, pass?, why)."""
    rows, failures = [], []
    d = os.path.join(workdir, name)
    os.makedirs(d, exist_ok=True)
    try:
        image = hostile.make(name, d, args.scale)
    except (hostile.RecipeError, subprocess.SubprocessError, OSError) as e:
        failures.append("%s: could not make the image: %s" % (name, e))
        return rows, failures
    if args.poke:
        magic = subprocess.run([args.poke, image, "0", "4"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
        if magic.stdout.strip() != b"0x514649fb":
            failures.append("%s: qcow2-poke does not see the qcow2 magic: %r"
                            % (name, magic.stdout + magic.stderr))
    size = os.path.getsize(image)
    digest = sha256(image)
    bound = output_bound(size)
    time_limit = TIME_LIMIT_S * TIME_FACTOR
    print("== %s: %s (%d bytes)" % (name, image, size), flush=True)
    for mode, margs in DUMP_MODES:
        argv = [args.dump] + margs + [image]
        run = measure(argv, time_limit, bound, bound + 1 if mode == "json" else 4096,
                      cwd=d, env=tool_env())
        bad = check_run(mode, run, size, time_limit, mode == "json")
        rows.append((mode, run.summary(), not bad, "; ".join(bad)))
        line = "  %-7s %s  %s" % (mode, "PASS" if not bad else "FAIL", run.summary())
        if bad:
            line += "\n          why: %s" % "; ".join(bad)
            if run.first_err_line():
                line += "\n          stderr: %s" % run.first_err_line()
            line += "\n          repro: %s" % repro(name, args.scale, image, argv)
            failures.append("%s / %s: %s (%s; stderr: %s)" % (name, mode, "; ".join(bad),
                                                              run.summary(), run.first_err_line()))
        print(line, flush=True)
    why_not = fuse_unavailable()
    if why_not:
        print("  mount   SKIP  %s" % why_not, flush=True)
        rows.append(("mount", "skipped", True, why_not))
    else:
        m = check_mount(args.qcow2fs, image, d, bound)
        d_rss = "%.1f MiB" % (m.daemon.rss_kib / 1024) if m.daemon.rss_kib is not None else "? MiB"
        summary = ("daemon %s, reads %.2f s, %s peak, %d files (%d errno), largest %s %d bytes"
                   % (m.daemon.status_text(), m.read_wall, d_rss, m.files, m.errors,
                      m.biggest_path or "-", m.biggest))
        rows.append(("mount", summary, not m.failures, "; ".join(m.failures[:5])))
        line = "  %-7s %s  %s" % ("mount", "PASS" if not m.failures else "FAIL", summary)
        if m.failures:
            more = " (+%d more)" % (len(m.failures) - 5) if len(m.failures) > 5 else ""
            line += "\n          why: %s%s" % ("; ".join(m.failures[:5]), more)
            if m.daemon.first_err_line():
                line += "\n          daemon log: %s" % m.daemon.first_err_line()
            line += "\n          repro: %s" % repro(name, args.scale, image, ["mkdir", "-p", "mnt"]) \
                + " && %s %s mnt -f" % (args.qcow2fs, os.path.basename(image))
            failures.append("%s / mount: %s (%s)" % (name, "; ".join(m.failures[:5]), summary))
        print(line, flush=True)
    after = sha256(image)
    if after != digest:
        failures.append("%s: the image changed (sha256 %s -> %s)" % (name, digest, after))
        print("  sha256  FAIL  the image changed", flush=True)
    return rows, failures


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dump")
    ap.add_argument("--qcow2fs")
    ap.add_argument("--poke")
    ap.add_argument("--recipe", action="append", choices=list(hostile.RECIPES))
    ap.add_argument("--scale", type=int, default=1)
    ap.add_argument("--keep", help="make the images in this directory and keep them")
    ap.add_argument("--read-tree", help=argparse.SUPPRESS)
    ap.add_argument("--bound", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv[1:])
    if args.read_tree:
        return read_tree(args.read_tree, args.bound)
    if not args.dump or not args.qcow2fs:
        ap.error("--dump and --qcow2fs are required")
    for tool in ("dump", "qcow2fs", "poke"):
        path = getattr(args, tool)
        if path:
            if not os.access(path, os.X_OK):
                ap.error("--%s %s is not an executable" % (tool, path))
            setattr(args, tool, os.path.abspath(path))
    if not hostile.have_qemu():
        print("SKIP: qemu-img / qemu-io are not installed")
        return 77
    names = args.recipe or list(hostile.RECIPES)
    keep = args.keep or None
    workdir = keep or tempfile.mkdtemp(prefix="qcow2-hostile.")
    if SANITIZED:
        print("QCOW2_SANITIZED=1: no memory limit, time limits x%d" % SANITIZED_TIME_FACTOR)
    failures = []
    try:
        for n in names:
            failures += run_recipe(n, args, workdir)[1]
    finally:
        still_mounted = mounts_under(workdir)
        if still_mounted:
            print("NOT removing %s: still mounted: %s" % (workdir, " ".join(still_mounted)))
        elif not keep and os.environ.get("QCOW2_KEEP_TEMP") != "1":
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print("kept %s" % workdir)
    if failures:
        print("\n%d FAILED:" % len(failures))
        for f in failures:
            print("  " + f)
        return 1
    print("\nall passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
