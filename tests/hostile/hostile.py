#!/usr/bin/env python3
"""Hostile qcow2 images: each starts as a real image made by qemu-img / qemu-io and is then
damaged by writing bytes from Python, so that it *claims* far more work (entries, tables,
names, sizes) than the file's bytes justify.

The hardening target: for any input, time and memory of every qcow2-dump mode and of the mount
grow at most linearly with the FILE's size, never with counts the file merely claims. These
recipes are the acceptance inputs for that; tests/hostile/test_hostile.py runs every tool mode
on them and scripts/bench --hostile measures them at growing scales.

Every recipe is a function (directory, scale) -> image path. scale=1 is the size the test suite
uses (every image under ~10 MiB); scale 2, 4, 8 make the hostile structure (and with it the
file) that many times bigger. Offsets are always read from the header and the tables that
qemu-img wrote, never assumed.

    python3 hostile.py --list                 the recipe names, one a line
    python3 hostile.py DIR [RECIPE...] [--scale N]
                                              make the images in DIR, print their paths

python3 standard library only.
"""

import os
import struct
import subprocess
import sys

# --- running QEMU's tools ---------------------------------------------------------------


class RecipeError(RuntimeError):
    """A recipe could not build its image (a tool failed or the layout was unexpected)."""


def _run(argv, cwd):
    r = subprocess.run(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=300)
    if r.returncode != 0:
        raise RecipeError("%s exited %d: %s" % (" ".join(argv), r.returncode,
                                                 r.stderr.decode("utf-8", "replace").strip()))
    return r.stdout


def qemu_img_create(path, size, options=(), extra=()):
    """qemu-img create -f qcow2 [-o options] path size, run in the image's directory."""
    argv = ["qemu-img", "create", "-q", "-f", "qcow2"]
    if options:
        argv += ["-o", ",".join(options)]
    argv += list(extra) + [os.path.basename(path), size]
    _run(argv, os.path.dirname(path))
    return path


def qemu_io(path, commands):
    argv = ["qemu-io", "-f", "qcow2"]
    for c in commands:
        argv += ["-c", c]
    argv.append(os.path.basename(path))
    _run(argv, os.path.dirname(path))


def qemu_img(args, cwd):
    return _run(["qemu-img"] + list(args), cwd)


def have_qemu():
    try:
        for tool in ("qemu-img", "qemu-io"):
            subprocess.run([tool, "--version"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, check=True)
        return True
    except (OSError, subprocess.CalledProcessError):
        return False


# --- reading and writing bytes ----------------------------------------------------------


def pread(path, offset, length):
    with open(path, "rb") as f:
        f.seek(offset)
        data = f.read(length)
    if len(data) != length:
        raise RecipeError("%s: %d bytes at %d run past the end of the file" % (path, length, offset))
    return data


def pwrite(path, offset, data):
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(data)


def u16(path, offset):
    return struct.unpack(">H", pread(path, offset, 2))[0]


def u32(path, offset):
    return struct.unpack(">I", pread(path, offset, 4))[0]


def u64(path, offset):
    return struct.unpack(">Q", pread(path, offset, 8))[0]


def put_u32(path, offset, value):
    pwrite(path, offset, struct.pack(">I", value))


def put_u64(path, offset, value):
    pwrite(path, offset, struct.pack(">Q", value))


def file_size(path):
    return os.path.getsize(path)


def align_up(n, a):
    return (n + a - 1) // a * a


def append_aligned(path, data, alignment):
    """Writes data at the first multiple of alignment at or after EOF, then pads the file to a
    multiple of alignment. Returns the offset it was written at."""
    at = align_up(file_size(path), alignment)
    with open(path, "r+b") as f:
        f.seek(at)
        f.write(data)
        f.truncate(align_up(at + len(data), alignment))
    return at


OFFSET_MASK = 0x00FFFFFFFFFFFE00
COPIED = 1 << 63
COMPRESSED = 1 << 62

EXT_BITMAPS = 0x23852875


class Header:
    """The header fields the recipes need, read from the file qemu-img wrote."""

    def __init__(self, path):
        self.path = path
        raw = pread(path, 0, 72)
        (magic, self.version, self.backing_file_offset, self.backing_file_size,
         self.cluster_bits, self.size, self.crypt_method, self.l1_size, self.l1_table_offset,
         self.refcount_table_offset, self.refcount_table_clusters, self.nb_snapshots,
         self.snapshots_offset) = struct.unpack(">IIQIIQIIQQIIQ", raw)
        if magic != 0x514649FB:
            raise RecipeError("%s is not qcow2" % path)
        self.cluster_size = 1 << self.cluster_bits
        if self.version >= 3:
            self.incompatible, self.compatible, self.autoclear, self.refcount_order, \
                self.header_length = struct.unpack(">QQQII", pread(path, 72, 32))
        else:
            self.incompatible = self.compatible = self.autoclear = 0
            self.refcount_order, self.header_length = 4, 72
        self.extended_l2 = bool(self.incompatible & (1 << 4))
        self.l2_entry_bytes = 16 if self.extended_l2 else 8
        self.l2_entries = self.cluster_size // self.l2_entry_bytes

    def extensions(self):
        """[(type, data offset, length)] up to the end-of-extensions marker."""
        out = []
        at = self.header_length
        while at + 8 <= self.cluster_size:
            etype, length = struct.unpack(">II", pread(self.path, at, 8))
            if etype == 0:
                break
            out.append((etype, at + 8, length))
            at += 8 + align_up(length, 8)
        return out

    def extension(self, etype):
        for t, off, length in self.extensions():
            if t == etype:
                return off, length
        raise RecipeError("%s has no header extension 0x%08x" % (self.path, etype))

    def l1_entry_offset(self, index):
        return self.l1_table_offset + 8 * index

    def l2_of(self, l1_index):
        e = u64(self.path, self.l1_entry_offset(l1_index))
        if e & OFFSET_MASK == 0:
            raise RecipeError("L1 entry %d of %s is unallocated" % (l1_index, self.path))
        return e & OFFSET_MASK

    def l2_entry_offset(self, guest_cluster):
        l2 = self.l2_of(guest_cluster // self.l2_entries)
        return l2 + self.l2_entry_bytes * (guest_cluster % self.l2_entries)


# --- qcow2 structures built by hand (layouts in the format reference, sections 1.6, 1.7) ---


def snapshot_entry(l1_offset, l1_size, sid, name, extra=b"", date_sec=0, vm_clock=0):
    """One snapshot table entry: 40-byte fixed part, extra data, id, name, padded to 8."""
    fixed = struct.pack(">QIHHIIQII", l1_offset, l1_size, len(sid), len(name), date_sec, 0,
                        vm_clock, 0, len(extra))
    e = fixed + extra + sid + name
    return e + b"\0" * (align_up(len(e), 8) - len(e))


def v3_extra(disk_size):
    """The 24 bytes of extra data QEMU writes: vm_state_size_large, disk_size, icount."""
    return struct.pack(">QQQ", 0, disk_size, 0)


def install_snapshot_table(path, entries):
    """Appends a snapshot table made of entries (bytes each) and points the header at it."""
    h = Header(path)
    table = b"".join(entries)
    at = append_aligned(path, table, h.cluster_size)
    put_u32(path, 60, len(entries))
    put_u64(path, 64, at)
    return at


def bitmap_dir_entry(table_offset, table_size, flags, granularity_bits, name, btype=1):
    e = struct.pack(">QIIBBHI", table_offset, table_size, flags, btype, granularity_bits,
                    len(name), 0) + name
    return e + b"\0" * (align_up(len(e), 8) - len(e))


def bitmap_image(path, size="64M", names=("b0",), writes=("write -P 0x55 1M 64k",)):
    """A 64 KiB-cluster image with real persistent bitmaps (qemu-img bitmap --add) made dirty
    by writes, so each bitmap table has a data cluster. Returns (header, first directory
    entry's fields as a dict)."""
    qemu_img_create(path, size)
    for n in names:
        qemu_img(["bitmap", "--add", os.path.basename(path), n], os.path.dirname(path))
    if writes:
        qemu_io(path, list(writes))
    h = Header(path)
    ext, _ = h.extension(EXT_BITMAPS)
    nb, _reserved, dir_size, dir_offset = struct.unpack(">IIQQ", pread(path, ext, 24))
    table_offset, table_size, flags, btype, gran, name_size, extra = struct.unpack(
        ">QIIBBHI", pread(path, dir_offset, 24))
    return h, dict(ext=ext, nb=nb, dir_size=dir_size, dir_offset=dir_offset,
                   table_offset=table_offset, table_size=table_size, flags=flags, type=btype,
                   granularity_bits=gran, name_size=name_size)


def set_bitmaps_extension(path, ext, nb, dir_size, dir_offset):
    pwrite(path, ext, struct.pack(">IIQQ", nb, 0, dir_size, dir_offset))


def compressed_descriptor(h, byte_offset, extra_sectors):
    x = 62 - (h.cluster_bits - 8)
    if byte_offset >= (1 << x) or extra_sectors >= (1 << (62 - x)):
        raise RecipeError("compressed descriptor fields out of range")
    return COMPRESSED | (extra_sectors << x) | byte_offset


# --- the recipes ------------------------------------------------------------------------


def compressed_tail(d, scale=1):
    """(a) Compressed clusters whose byte offsets lie in the last, partial 512-byte sector of a
    file whose size is not a multiple of 512: the first past EOF (inside the sector, beyond the
    file's last byte), the second inside the file but with a length running past EOF. Guest
    cluster 0 is a real compressed cluster whose descriptor is moved there; 4*scale data
    clusters follow."""
    p = os.path.join(d, "compressed_tail.qcow2")
    qemu_img_create(p, "%dM" % (64 * scale))
    n = 4 * scale
    qemu_io(p, ["write -c -P 0x11 0 64k", "write -P 0x22 64k %dk" % (64 * n)])
    h = Header(p)
    end = file_size(p)
    if end % 512:
        raise RecipeError("qemu-io left a file of %d bytes (not whole sectors)" % end)
    tail_sector = end + 512          # the file will end 100 bytes into this sector
    new_size = tail_sector + 100
    with open(p, "r+b") as f:
        f.truncate(new_size)
    at0 = h.l2_entry_offset(0)
    old = u64(p, at0)
    if not old & COMPRESSED:
        raise RecipeError("guest cluster 0 is not compressed (entry 0x%x)" % old)
    put_u64(p, at0, compressed_descriptor(h, tail_sector + 300, 0))     # past EOF
    # Further unallocated entries after the written clusters point into the same tail.
    for k, (off, sectors) in enumerate([(tail_sector + 300, 0), (tail_sector + 50, 1),
                                        (new_size - 1, 0), (tail_sector + 511, 3)]):
        put_u64(p, h.l2_entry_offset(n + 1 + k), compressed_descriptor(h, off, sectors))
    if file_size(p) % 512 == 0:
        raise RecipeError("file size is a multiple of 512")
    return p


def reftable_one_block(d, scale=1):
    """(b) A refcount table of 16*scale clusters (131072*scale entries) whose every entry names
    the one refcount block qemu-img wrote. 1-bit refcounts, so that each entry claims 512Ki
    clusters (32 GiB) of refcounts: 64 Ti refcounts claimed by a 1.4 MiB file."""
    p = os.path.join(d, "reftable_one_block.qcow2")
    qemu_img_create(p, "64M", ["refcount_bits=1"])
    qemu_io(p, ["write -P 0x11 0 64k", "write -P 0x12 64k 64k"])
    h = Header(p)
    block = u64(p, h.refcount_table_offset) & OFFSET_MASK
    if block == 0:
        raise RecipeError("refcount table entry 0 is empty")
    clusters = 16 * scale
    table = struct.pack(">Q", block) * (clusters * h.cluster_size // 8)
    at = append_aligned(p, table, h.cluster_size)
    put_u64(p, 48, at)
    put_u32(p, 56, clusters)
    return p


def snapshots_share_l1(d, scale=1):
    """(c) 16*scale snapshot table entries that all name the active L1 table, which has
    1M*scale entries (4 KiB clusters, 2 TiB*scale virtual: an 8 MiB*scale file), every one
    of them pointing at the one L2 table qemu-img wrote for guest cluster 0 (so each entry is
    a valid pointer and the L1 claims 1M*scale tables' worth of mappings)."""
    p = os.path.join(d, "snapshots_share_l1.qcow2")
    qemu_img_create(p, "%dT" % (2 * scale), ["cluster_size=4k"])
    qemu_io(p, ["write -P 0x33 0 64k"])
    h = Header(p)
    l2 = h.l2_of(0)
    pwrite(p, h.l1_table_offset, struct.pack(">Q", COPIED | l2) * h.l1_size)
    entries = [snapshot_entry(h.l1_table_offset, h.l1_size, b"%d" % (i + 1), b"s%d" % i,
                              v3_extra(h.size), date_sec=1700000000 + i)
               for i in range(16 * scale)]
    install_snapshot_table(p, entries)
    return p


def snapshots_v2_many(d, scale=1):
    """(c) 4000*scale snapshot entries on a v2 (compat=0.10) image, all naming the active L1
    of 64Ki*scale entries (32 TiB*scale virtual, 64 KiB clusters): a ~1 MiB*scale file."""
    p = os.path.join(d, "snapshots_v2_many.qcow2")
    qemu_img_create(p, "%dT" % (32 * scale), ["compat=0.10"])
    qemu_io(p, ["write -P 0x35 0 64k"])
    h = Header(p)
    if h.version != 2:
        raise RecipeError("compat=0.10 gave version %d" % h.version)
    entries = [snapshot_entry(h.l1_table_offset, h.l1_size, b"%d" % (i + 1), b"v%d" % i,
                              date_sec=1700000000 + i)
               for i in range(4000 * scale)]
    install_snapshot_table(p, entries)
    return p


def bitmap_dir_same_table(d, scale=1):
    """(d) A bitmap directory of 2000*scale entries (unique names), all copies of the one
    qemu-img bitmap --add wrote: they name the same bitmap table."""
    p = os.path.join(d, "bitmap_dir_same_table.qcow2")
    h, b = bitmap_image(p)
    n = 2000 * scale
    directory = b"".join(bitmap_dir_entry(b["table_offset"], b["table_size"], b["flags"],
                                          b["granularity_bits"], b"b%05d" % i) for i in range(n))
    at = append_aligned(p, directory, h.cluster_size)
    set_bitmaps_extension(p, b["ext"], n, len(directory), at)
    return p


def bitmap_dir_wrong_size(d, scale=1):
    """(d) 2000*scale bitmap directory entries (unique names) that all name one bitmap table
    of 16384 entries (two clusters appended at EOF) although the 64 MiB disk at 64 KiB
    granularity needs 1; every table entry names a cluster inside the file (cycling over
    clusters 1..N-1), so each is a valid data reference: 16384 per bitmap."""
    p = os.path.join(d, "bitmap_dir_wrong_size.qcow2")
    h, b = bitmap_image(p)
    table_entries = 2 * h.cluster_size // 8
    clusters = align_up(file_size(p), h.cluster_size) // h.cluster_size
    table = b"".join(struct.pack(">Q", (1 + i % (clusters - 1)) * h.cluster_size)
                     for i in range(table_entries))
    table_at = append_aligned(p, table, h.cluster_size)
    n = 2000 * scale
    directory = b"".join(bitmap_dir_entry(table_at, table_entries, b["flags"],
                                          b["granularity_bits"], b"b%05d" % i) for i in range(n))
    at = append_aligned(p, directory, h.cluster_size)
    set_bitmaps_extension(p, b["ext"], n, len(directory), at)
    return p


def l1_all_one_l2(d, scale=1):
    """(e) 512-byte clusters, 1 GiB*scale virtual: every one of the 32768*scale L1 entries
    points at ONE L2 table whose 64 entries each point at a different data cluster inside the
    file (every other one, so no two are contiguous): a ~384 KiB*scale file that maps
    2M*scale guest clusters."""
    p = os.path.join(d, "l1_all_one_l2.qcow2")
    qemu_img_create(p, "%dG" % scale, ["cluster_size=512"])
    qemu_io(p, ["write -P 0x44 0 64k"])   # 128 data clusters, 2 L2 tables
    h = Header(p)
    data = []
    for g in range(2 * h.l2_entries):
        e = u64(p, h.l2_entry_offset(g))
        if e & OFFSET_MASK == 0:
            raise RecipeError("guest cluster %d is not allocated" % g)
        data.append(e & OFFSET_MASK)
    data.sort()
    l2 = h.l2_of(0)
    table = b"".join(struct.pack(">Q", COPIED | data[2 * i]) for i in range(h.l2_entries))
    pwrite(p, l2, table)
    l1 = struct.pack(">Q", COPIED | l2) * h.l1_size
    pwrite(p, h.l1_table_offset, l1)
    return p


def snapshots_l1_past_eof(d, scale=1):
    """(f) 20000*scale snapshots whose L1 tables lie far past EOF (1 TiB on, each its own
    offset) and claim 4194303 entries (32 MiB) each."""
    p = os.path.join(d, "snapshots_l1_past_eof.qcow2")
    qemu_img_create(p, "64M")
    qemu_io(p, ["write -P 0x66 0 64k"])
    h = Header(p)
    far = 1 << 40
    entries = [snapshot_entry(far + i * h.cluster_size, 4194303, b"%d" % (i + 1), b"f%d" % i,
                              v3_extra(h.size), date_sec=1700000000 + i)
               for i in range(20000 * scale)]
    install_snapshot_table(p, entries)
    return p


def bitmap_dir_64m_claim(d, scale=1):
    """(f) A bitmaps extension claiming a 64 MiB directory of 65535 bitmaps on a tiny file
    (the real one-entry directory is where it says; scale MiB of data make the file grow)."""
    p = os.path.join(d, "bitmap_dir_64m_claim.qcow2")
    h, b = bitmap_image(p, writes=["write -P 0x55 1M %dk" % (1024 * scale)])
    set_bitmaps_extension(p, b["ext"], 65535, 64 << 20, b["dir_offset"])
    return p


def l1_to_reftable(d, scale=1):
    """(g) Active L1 entries that point at the refcount table's cluster (read as an L2 table,
    its entries point at the refcount block), and the last one at the L1 table itself.
    8 GiB*scale virtual: 16*scale L1 entries, entry 0 real (512 KiB*scale written)."""
    p = os.path.join(d, "l1_to_reftable.qcow2")
    qemu_img_create(p, "%dG" % (8 * scale))
    qemu_io(p, ["write -P 0x77 0 %dk" % (512 * scale)])
    h = Header(p)
    if h.l1_size < 3:
        raise RecipeError("L1 has only %d entries" % h.l1_size)
    for i in range(1, h.l1_size - 1):
        put_u64(p, h.l1_entry_offset(i), COPIED | h.refcount_table_offset)
    put_u64(p, h.l1_entry_offset(h.l1_size - 1), COPIED | (h.l1_table_offset & OFFSET_MASK))
    return p


def bitmap_dir_at_0(d, scale=1):
    """(g) The bitmap directory offset set to 0: the directory is read from the header's own
    bytes. scale MiB of data make the file grow."""
    p = os.path.join(d, "bitmap_dir_at_0.qcow2")
    h, b = bitmap_image(p, writes=["write -P 0x55 1M %dk" % (1024 * scale)])
    set_bitmaps_extension(p, b["ext"], b["nb"], b["dir_size"], 0)
    return p


NASTY_ID = b"\xff\x1b[2J\x07\x01"
NASTY_NAME = b"\xff\xfe\x00\x1b]0;PWNED\x07\r\n\t\"\\\x7f\xc3("


def names_snapshot_bitmap(d, scale=1):
    """(h) Names that break output: 4*scale snapshots (all naming the one real snapshot's L1)
    whose ids and names hold 0xff, NUL, ESC sequences, CR/LF, quotes, backslash, DEL and an
    invalid UTF-8 sequence; a bitmap qemu-img made with the name `x; echo PWNED`, and a second
    bitmap whose one-byte name is poked to 0xff. 256 KiB*scale of data written."""
    p = os.path.join(d, "names_snapshot_bitmap.qcow2")
    qemu_img_create(p, "64M")
    qemu_io(p, ["write -P 0x11 0 64k"])
    qemu_img(["snapshot", "-c", "snap1", os.path.basename(p)], d)
    for n in ("x; echo PWNED", "y"):
        qemu_img(["bitmap", "--add", os.path.basename(p), n], d)
    qemu_io(p, ["write -P 0x12 64k %dk" % (256 * scale)])
    h = Header(p)
    if h.nb_snapshots != 1:
        raise RecipeError("expected one snapshot, found %d" % h.nb_snapshots)
    l1_offset = u64(p, h.snapshots_offset)
    l1_size = u32(p, h.snapshots_offset + 8)
    entries = [snapshot_entry(l1_offset, l1_size, NASTY_ID + b"%d" % i,
                              NASTY_NAME + b"%d\xff" % i, v3_extra(h.size),
                              date_sec=1700000000 + i) for i in range(4 * scale)]
    install_snapshot_table(p, entries)
    # The bitmap directory: find the entry named "y" and make its name 0xff.
    ext, _ = h.extension(EXT_BITMAPS)
    nb, _r, dir_size, dir_offset = struct.unpack(">IIQQ", pread(p, ext, 24))
    at = dir_offset
    for _ in range(nb):
        name_size = u16(p, at + 18)
        extra = u32(p, at + 20)
        name_at = at + 24 + extra
        if pread(p, name_at, name_size) == b"y":
            pwrite(p, name_at, b"\xff")
            break
        at += align_up(24 + extra + name_size, 8)
    else:
        raise RecipeError("no bitmap named y in the directory")
    return p


NASTY_BACKING = b"base\xff\x1b[2J\n\x01.qcow2"


def backing_name_0xff(d, scale=1):
    """(h) An overlay whose backing file name holds 0xff, ESC, LF and a control byte; the base
    exists under exactly that name (so the chain is followed). 4*scale clusters written in
    each."""
    p = os.path.join(d, "backing_name_0xff.qcow2")
    base = os.path.join(d, "base.qcow2")
    qemu_img_create(base, "64M")
    qemu_io(base, ["write -P 0x66 0 %dk" % (256 * scale)])
    qemu_img_create(p, "64M", extra=["-b", "base.qcow2", "-F", "qcow2"])
    qemu_io(p, ["write -P 0x67 64k %dk" % (256 * scale)])
    h = Header(p)
    if h.backing_file_offset == 0:
        raise RecipeError("no backing file name stored")
    if pread(p, h.backing_file_offset, h.backing_file_size) != b"base.qcow2":
        raise RecipeError("unexpected backing name")
    if h.backing_file_offset + len(NASTY_BACKING) > h.cluster_size:
        raise RecipeError("the new backing name would not fit in cluster 0")
    pwrite(p, h.backing_file_offset, NASTY_BACKING)
    put_u32(p, 16, len(NASTY_BACKING))
    os.rename(os.fsencode(base), os.path.join(os.fsencode(d), NASTY_BACKING))
    return p


# name -> (function, one-line summary)
RECIPES = {
    "compressed_tail": compressed_tail,
    "reftable_one_block": reftable_one_block,
    "snapshots_share_l1": snapshots_share_l1,
    "snapshots_v2_many": snapshots_v2_many,
    "bitmap_dir_same_table": bitmap_dir_same_table,
    "bitmap_dir_wrong_size": bitmap_dir_wrong_size,
    "l1_all_one_l2": l1_all_one_l2,
    "snapshots_l1_past_eof": snapshots_l1_past_eof,
    "bitmap_dir_64m_claim": bitmap_dir_64m_claim,
    "l1_to_reftable": l1_to_reftable,
    "bitmap_dir_at_0": bitmap_dir_at_0,
    "names_snapshot_bitmap": names_snapshot_bitmap,
    "backing_name_0xff": backing_name_0xff,
}

# Scales a recipe cannot be made at (QEMU's tools refuse the base image).
MAX_SCALE = {
    "snapshots_share_l1": 4,   # 2 TiB*8 at 4 KiB clusters needs an 8M-entry L1 (> QEMU's 4M)
}


def make(name, d, scale=1):
    if scale > MAX_SCALE.get(name, 1 << 30):
        raise RecipeError("%s cannot be made at scale %d (max %d)" % (name, scale, MAX_SCALE[name]))
    os.makedirs(d, exist_ok=True)
    return RECIPES[name](d, scale)


def main(argv):
    if argv[1:] == ["--list"]:
        print("\n".join(RECIPES))
        return 0
    args = argv[1:]
    scale = 1
    if "--scale" in args:
        i = args.index("--scale")
        scale = int(args[i + 1])
        del args[i:i + 2]
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    d, names = args[0], args[1:] or list(RECIPES)
    rc = 0
    for n in names:
        sub = os.path.join(d, n)
        try:
            print(make(n, sub, scale))
        except RecipeError as e:
            print("hostile.py: %s" % e, file=sys.stderr)
            rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv))
