#!/usr/bin/env python3
"""Throws bad input at every `sift` command and checks that each one is refused cleanly.

Covers transform, weights, reference, traces, kernels (multiply/bench/list/tune), simulate
(network/matmul/sweep/config), export, import, run, run sweep and report with: malformed and
truncated .npy and .onnx files, simulator configs, plan caches, tuning files, report shards and
sweep CSVs; directories, FIFOs, devices, dangling and looping links as inputs and outputs;
weights of another network or with NaN/inf/huge values; NaN and overflowing inputs, token ids
outside the vocabulary; out-of-range, negative and non-numeric values of every numeric option;
runs interrupted by SIGTERM.

A clean refusal: a non-zero exit status that is not a crash, a message on stderr naming the
cause (`error: ...` from the libraries, `Error: ...` from the argument parser) that is not a
vague system message, the named outputs (and link targets) left byte-identical, and no
`.sift-partial` file left behind. A crash is a Swift trap or a signal (exit status 132, 133,
134, 139, ..., or "Fatal error" / "Illegal instruction" in the output). A case that runs past
the timeout is a hang. Cases marked "warn" (a corrupt cache or tuning file) must instead run
with a `warning:` line and leave a valid rebuilt file; cases marked "either" (a value that may
be valid) fail only on a crash, hang, vague message, changed output or stray partial file.

  scripts/abuse.py [--sift .build/release/sift] [--only TEXT ...] [--timeout 60] [--work DIR]
                   [--keep] [--list] [--verbose]

Needs python3 with numpy; 5 to 15 minutes on 2 cores. Every case runs with
SIFT_TUNING=defaults and XDG_CACHE_HOME inside the work folder (the tuning-file cases set
their own), so nothing of the user's cache is read or written. Not part of `swift test`; the
problems it found have regression tests in Tests/siftTests/AbuseRegressionTests.swift.
Exit status: 0 when every case behaved, 1 otherwise.
"""
import argparse
import hashlib
import os
import resource
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile

import numpy as np

CRASH_STATUSES = {132, 133, 134, 136, 137, 138, 139}
CRASH_TEXT = ("Fatal error", "Illegal instruction", "Segmentation fault", "Stack dump", "Trace/breakpoint")
# Messages that do not name the cause (the ones issue 6 lists, and a few more).
VAGUE_TEXT = ("NSCocoaErrorDomain", "Error Domain=", "You don't have permission", "The operation could not be completed",
              "The file couldn’t be", "Missing value for '--")
# Every child gets at most this much address space, so a runaway allocation fails inside the
# child instead of pushing the shared machine into swap.
ADDRESS_SPACE_LIMIT = 12 << 30

SMALL_MLP = ["--model", "mlp", "--mlp-widths", "8,16,4"]
QUICK_RUN = ["--time", "0", "--warmup", "0", "--no-plan-cache", "--threads", "1"]


class Case:
    """One invocation and what it must do.

    expect: "refuse" (non-zero exit, an error line, outputs unchanged), "warn" (exit 0 with a
    `warning:` line on stderr: a cache or tuning file that is ignored), or "either" (the value
    may be valid; only a crash, a hang, a vague message, a changed output or a stray partial
    file counts). setup() runs before the outputs are snapshotted; check(work) runs after a
    successful "warn" case, check(work, stdout) after a refusal; each returns a list of problems.
    kill_after: seconds after which the command gets SIGTERM (it must exit 143 and leave the
    outputs as they were, with no partial file)."""

    def __init__(self, name, args, outputs=(), expect="refuse", timeout=None, env=None, check=None, setup=None,
                 kill_after=None):
        self.name, self.args, self.outputs = name, list(args), list(outputs)
        self.expect, self.timeout, self.kill_after = expect, timeout, kill_after
        self.env, self.check, self.setup = dict(env or {}), check, setup
        self.message, self.accepted = "", False


# --------------------------------------------------------------------------- .npy files

def npy_bytes(header, data=b"", magic=b"\x93NUMPY", version=(1, 0), header_length=None):
    """A .npy file with a given header text; the header is padded as numpy pads it."""
    text = header.encode("latin1")
    pad = (64 - (len(magic) + 2 + 2 + len(text) + 1) % 64) % 64
    text = text + b" " * pad + b"\n"
    length = len(text) if header_length is None else header_length
    if version[0] == 1:
        prefix = magic + bytes(version) + struct.pack("<H", length & 0xFFFF)
    else:
        prefix = magic + bytes(version) + struct.pack("<I", length & 0xFFFFFFFF)
    return prefix + text + data


def malformed_npys():
    """name -> bytes: every way a .npy can be wrong."""
    good = np.arange(16, dtype="<f4").reshape(4, 4)
    payload = good.tobytes()
    h = "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 4), }"
    cases = {
        "empty": b"",
        "magic-only": b"\x93NUMPY",
        "bad-magic": b"\x93NUMPZ\x01\x00" + npy_bytes(h, payload)[8:],
        "version-9": npy_bytes(h, payload, version=(9, 0)),
        "header-length-huge": npy_bytes(h, payload, header_length=0xFFFF),
        "header-length-huge-v2": npy_bytes(h, payload, version=(2, 0), header_length=0xFFFFFFF0),
        "header-length-zero": npy_bytes(h, payload, header_length=0),
        "truncated-header": npy_bytes(h, payload)[:30],
        "truncated-data": npy_bytes(h, payload)[:-5],
        "no-data": npy_bytes(h),
        "trailing-bytes": npy_bytes(h, payload + b"\0\0\0\0"),
        "trailing-garbage-in-dict": npy_bytes(h + " junk", payload),
        "duplicate-descr": npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4, 4), 'descr': '>f4'}", payload),
        "missing-shape": npy_bytes("{'descr': '<f4', 'fortran_order': False}", payload),
        "extra-key": npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4, 4), 'x': 1}", payload),
        "not-a-dict": npy_bytes("[1, 2, 3]", payload),
        "unterminated-dict": npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4, 4)", payload),
        "shape-negative": npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (-4, 4), }", payload),
        "shape-overflow": npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }", payload),
        "shape-overflow-product": npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3037000500, 3037000500), }", payload),
        "shape-huge-int": npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999, 1), }", payload),
        "shape-float": npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4.0, 4), }", payload),
        "shape-bool": npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (True, 4), }", payload),
        "shape-many-dims": npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (" + "1, " * 64 + "), }", payload[:4]),
        "shape-zero": npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4), }"),
        "shape-scalar": npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", payload[:4]),
        "fortran-order": npy_bytes("{'descr': '<f4', 'fortran_order': True, 'shape': (4, 4), }", payload),
        "big-endian": npy_bytes("{'descr': '>f4', 'fortran_order': False, 'shape': (4, 4), }", payload),
        "int32": npy_bytes("{'descr': '<i4', 'fortran_order': False, 'shape': (4, 4), }", payload),
        "float16": npy_bytes("{'descr': '<f2', 'fortran_order': False, 'shape': (4, 8), }", payload),
        "object": npy_bytes("{'descr': '|O', 'fortran_order': False, 'shape': (4, 4), }", payload),
        "descr-garbage": npy_bytes("{'descr': 'zzz', 'fortran_order': False, 'shape': (4, 4), }", payload),
        "float64-overflow": npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }",
                                      np.array([1e300, 1.0], dtype="<f8").tobytes()),
        "nan": npy_bytes(h, np.full((4, 4), np.nan, dtype="<f4").tobytes()),
        "inf": npy_bytes(h, np.full((4, 4), np.inf, dtype="<f4").tobytes()),
        "deep-nesting": npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': " + "(" * 5000 + ")" * 5000 + "}", payload),
        "non-latin1": b"\x93NUMPY\x01\x00" + struct.pack("<H", 118) + "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 4), 'é'}".encode("utf8").ljust(117) + b"\n" + payload,
        "nul-in-header": npy_bytes("{'descr': '<f4\x00', 'fortran_order': False, 'shape': (4, 4), }", payload),
    }
    return cases


# --------------------------------------------------------------------------- ONNX files

def malformed_onnxs(good):
    """name -> bytes: truncations, bit flips and impossible protobuf lengths."""
    cases = {
        "empty": b"",
        "one-byte": b"\x08",
        "random": bytes((i * 73 + 41) % 256 for i in range(4096)),
        "truncated-half": good[: len(good) // 2],
        "truncated-tail": good[:-3],
        "varint-too-long": b"\x08" + b"\xff" * 11,
        "length-huge": b"\x3a" + b"\xff\xff\xff\xff\xff\xff\xff\xff\x7f" + b"\0" * 16,
        "length-negative": b"\x3a" + b"\xff" * 9 + b"\x01",
        "wire-type-7": b"\x0f\x00",
        "field-zero": b"\x00\x01",
        "text-file": b"ir_version: 8\ngraph { }\n",
        "npy-file": npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", b"\0\0\0\0"),
    }
    for offset in (10, len(good) // 3, len(good) - 40):
        flipped = bytearray(good)
        flipped[offset] ^= 0xFF
        cases[f"bitflip-{offset}"] = bytes(flipped)
    return cases


# --------------------------------------------------------------------------- the runner

def snapshot(path):
    """What a path is now: kind, target, size, content digest."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as error:
        return ("unreadable", str(error))
    if stat.S_ISLNK(info.st_mode):
        return ("link", os.readlink(path))
    if stat.S_ISREG(info.st_mode):
        with open(path, "rb") as handle:
            return ("file", info.st_size, hashlib.sha256(handle.read()).hexdigest())
    if stat.S_ISDIR(info.st_mode):
        return ("dir", tuple(sorted(os.listdir(path))))
    return ("special", stat.S_IFMT(info.st_mode), info.st_rdev)


def stray_partials(root):
    found = []
    for folder, _, files in os.walk(root):
        found += [os.path.join(folder, f) for f in files if ".sift-partial" in f]
    return found


def limit_child():
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_LIMIT, ADDRESS_SPACE_LIMIT))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def run_case(sift, case, work, default_timeout):
    if case.setup:
        case.setup()
    before = {path: snapshot(path) for path in case.outputs}
    # Tuning on first use would take minutes per case: every case runs with the defaults
    # unless it sets SIFT_TUNING itself (the tuning-file cases do).
    env = dict(os.environ, XDG_CACHE_HOME=os.path.join(work, "cache"), SIFT_TUNING="defaults")
    env.update(case.env)
    child = subprocess.Popen([sift] + case.args, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             stdin=subprocess.DEVNULL, preexec_fn=limit_child, env=env)
    try:
        if case.kill_after is not None:
            try:
                child.wait(timeout=case.kill_after)
            except subprocess.TimeoutExpired:
                child.send_signal(signal.SIGTERM)
        stdout, stderr = child.communicate(timeout=case.timeout or default_timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        return ["HANG: still running after the timeout"]
    status = child.returncode
    out = stdout.decode("utf8", "replace")
    err = stderr.decode("utf8", "replace")
    problems = []
    if case.kill_after is not None:
        if status == 0:
            problems.append(f"FINISHED before the SIGTERM at {case.kill_after} s: the case does not test an interruption")
        elif status != 143:
            problems.append(f"SIGTERM gave status {status}, expected 143: {err.strip()[-200:]!r}")
        for path in case.outputs:
            if status != 0 and snapshot(path) != before[path]:
                problems.append(f"CHANGED OUTPUT after SIGTERM: {path} was {before[path]}, now {snapshot(path)}")
        strays = stray_partials(work)
        if strays:
            problems.append(f"STRAY PARTIAL FILES after SIGTERM: {strays}")
            for path in strays:
                os.remove(path)
        return problems
    if status < 0 or status in CRASH_STATUSES or any(t in out + err for t in CRASH_TEXT):
        first = next((line for line in err.splitlines() if any(t in line for t in CRASH_TEXT)), err.strip()[-300:])
        problems.append(f"CRASH (status {status}): {first}")
    elif status == 0:
        case.accepted = True
        if case.expect == "refuse":
            problems.append(f"ACCEPTED: exit 0; stdout: {out.strip()[:200]!r}")
        elif case.expect == "warn":
            warning = next((line for line in err.splitlines() if "warning" in line.lower()), None)
            if warning is None:
                problems.append(f"NO WARNING: exit 0 and nothing on stderr says the file was ignored: {err.strip()[-200:]!r}")
            else:
                case.message = warning
            if case.check:
                problems += case.check(work, out)
    else:
        lines = [line for line in err.splitlines() if line.strip()]
        message = next((line for line in lines if line.startswith(("error:", "Error:"))), None)
        if message is None:
            problems.append(f"NO MESSAGE: status {status}, stderr {err.strip()[-200:]!r}")
        elif any(t in err for t in VAGUE_TEXT):
            problems.append(f"VAGUE: {message[:240]}")
        for path in case.outputs:
            if snapshot(path) != before[path]:
                problems.append(f"CHANGED OUTPUT: {path} was {before[path]}, now {snapshot(path)}")
        if case.check and case.expect != "warn":
            problems += case.check(work, out)
    strays = stray_partials(work)
    if strays:
        problems.append(f"STRAY PARTIAL FILES: {strays}")
        for path in strays:
            os.remove(path)
    if not case.message:
        case.message = next((line for line in err.splitlines() if line.startswith(("error:", "Error:"))), "")
    if case.expect == "warn" and status != 0 and not problems:
        problems.append(f"REFUSED: a file that should be ignored with a warning stopped the run: {case.message[:200]}")
    return problems


# --------------------------------------------------------------------------- fixtures

def make_fixtures(sift, work):
    """Good inputs to derive bad ones from, and paths of every awkward kind."""
    j = lambda *p: os.path.join(work, *p)
    os.makedirs(j("in"), exist_ok=True)
    rng = np.random.default_rng(0)
    w = rng.standard_normal((8, 16)).astype(np.float32)
    w.reshape(8, 4, 4)[:, :, 2:] = 0
    np.save(j("in", "W.npy"), w)
    np.save(j("in", "X.npy"), rng.standard_normal((16, 5)).astype(np.float32))
    np.save(j("in", "x_mlp.npy"), rng.standard_normal((2, 8)).astype(np.float32))
    np.save(j("in", "x_mlp_wrong.npy"), rng.standard_normal((2, 9)).astype(np.float32))
    np.save(j("in", "x_mlp_nan.npy"), np.full((2, 8), np.nan, dtype=np.float32))
    np.save(j("in", "x_mlp_huge.npy"), np.full((2, 8), 3e38, dtype=np.float32))
    np.save(j("in", "x_mlp_empty.npy"), np.zeros((0, 8), dtype=np.float32))
    np.save(j("in", "bias8.npy"), np.ones(8, dtype=np.float32))
    np.save(j("in", "bias7.npy"), np.ones(7, dtype=np.float32))
    np.save(j("in", "W3d.npy"), np.ones((2, 8, 16), dtype=np.float32))
    np.save(j("in", "W_overflow.npy"), np.full((8, 16), 3e38, dtype=np.float32))
    np.save(j("in", "W_nan.npy"), np.where(w == 0, 0, np.nan).astype(np.float32))
    np.save(j("in", "X_other_k.npy"), rng.standard_normal((15, 5)).astype(np.float32))
    np.save(j("in", "X_huge.npy"), np.full((16, 5), 3e38, dtype=np.float32))
    for name, data in malformed_npys().items():
        with open(j("in", f"bad-{name}.npy"), "wb") as handle:
            handle.write(data)
    # Awkward paths.
    os.makedirs(j("in", "a-directory"), exist_ok=True)
    fifo = j("in", "a-fifo")
    if not os.path.exists(fifo):
        os.mkfifo(fifo)
    for name, target in [("link-to-W.npy", "W.npy"), ("dangling-link", "does-not-exist"), ("loop-link", "loop-link")]:
        if not os.path.lexists(j("in", name)):
            os.symlink(target, j("in", name))
    os.makedirs(j("out"), exist_ok=True)
    for name, target in [("link-out.npy", "../in/W.npy")]:
        if not os.path.lexists(j("out", name)):
            os.symlink(target, j("out", name))
    out_fifo = j("out", "fifo")
    if not os.path.exists(out_fifo):
        os.mkfifo(out_fifo)
    os.makedirs(j("out", "full-dir"), exist_ok=True)
    with open(j("out", "full-dir", "precious.txt"), "w") as handle:
        handle.write("keep me\n")
    with open(j("out", "regular.txt"), "w") as handle:
        handle.write("keep me too\n")
    # Weights and a model made by sift itself.
    for name, extra in [("w-mlp", []), ("w-mlp-wide", ["--transform", "wide", "--sparsity", "0.5"])]:
        if not os.path.exists(j("in", name)):
            subprocess.run([sift, "weights", *SMALL_MLP, *extra, "--out", j("in", name)], check=True, capture_output=True)
    if not os.path.exists(j("in", "mlp.onnx")):
        subprocess.run([sift, "export", *SMALL_MLP, "--onnx", j("in", "mlp.onnx")], check=True, capture_output=True)
    with open(j("in", "mlp.onnx"), "rb") as handle:
        good_onnx = handle.read()
    for name, data in malformed_onnxs(good_onnx).items():
        with open(j("in", f"bad-{name}.onnx"), "wb") as handle:
            handle.write(data)
    # Weights directories that lie: a tensor replaced, a manifest broken, a file missing.
    tampered = {
        "w-swapped": lambda d: shutil.copy(j("in", "W.npy"), os.path.join(d, "fc1.weight.npy")),
        "w-no-manifest": lambda d: os.remove(os.path.join(d, "manifest.json")),
        "w-bad-manifest": lambda d: open(os.path.join(d, "manifest.json"), "w").write("{not json"),
        "w-missing-tensor": lambda d: os.remove(os.path.join(d, "fc1.weight.npy")),
        "w-malformed-tensor": lambda d: shutil.copy(j("in", "bad-truncated-data.npy"), os.path.join(d, "fc1.weight.npy")),
        "w-tensor-is-dir": lambda d: (os.remove(os.path.join(d, "fc1.weight.npy")), os.mkdir(os.path.join(d, "fc1.weight.npy"))),
        "w-tensor-is-fifo": lambda d: (os.remove(os.path.join(d, "fc1.weight.npy")), os.mkfifo(os.path.join(d, "fc1.weight.npy"))),
    }
    for name, damage in tampered.items():
        target = j("in", name)
        if not os.path.exists(target):
            shutil.copytree(j("in", "w-mlp"), target)
            damage(target)
    with open(j("in", "garbage.csv"), "w") as handle:
        handle.write('a,b\n1,"unterminated\n')
    # A plan cache that is not one.
    with open(j("in", "bad-plans.json"), "w") as handle:
        handle.write('{"version": 999, "entries": [')
    return malformed_npys().keys(), malformed_onnxs(good_onnx).keys()


# --------------------------------------------------------------------------- state files:
# plan caches, tuning files, simulator configs, weights that parse but lie, report shards

def fnv1a64(data):
    value = 0xCBF29CE484222325
    for byte in data:
        value = ((value ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"fnv1a64:{value:016x}"


def rewrite_tensor(folder, name, array):
    """Replaces one tensor of a `sift weights` folder and fixes its manifest entry, so only
    the values (not the checksum) are wrong: the command must look at the numbers."""
    import json
    path = os.path.join(folder, f"{name}.npy")
    np.save(path, array)
    with open(path, "rb") as handle:
        data = handle.read()
    with open(os.path.join(folder, "manifest.json")) as handle:
        manifest = json.load(handle)
    for entry in manifest["tensors"]:
        if entry["name"] == name:
            entry["checksum"], entry["shape"] = fnv1a64(data), list(array.shape)
    with open(os.path.join(folder, "manifest.json"), "w") as handle:
        json.dump(manifest, handle, indent=2)


def make_state_fixtures(sift, work):
    import json
    j = lambda *p: os.path.join(work, *p)
    quiet = dict(capture_output=True, env=dict(os.environ, SIFT_TUNING="defaults", XDG_CACHE_HOME=j("cache")))
    # Weights whose files and manifest agree but whose numbers are wrong.
    weights = np.load(j("in", "w-mlp", "fc1.weight.npy"))
    lies = {
        "w-nan": ("fc1.weight", np.where(np.arange(weights.size).reshape(weights.shape) == 3, np.nan, weights).astype(np.float32)),
        "w-inf": ("fc1.weight", np.full(weights.shape, np.inf, dtype=np.float32)),
        "w-huge": ("fc1.weight", np.full(weights.shape, 3e38, dtype=np.float32)),
        "w-wrong-shape": ("fc1.weight", np.ones((16, 9), dtype=np.float32)),
        "w-transposed": ("fc1.weight", np.ascontiguousarray(weights.T)),
        "w-bias-nan": ("fc1.bias", np.full(16, np.nan, dtype=np.float32)),
    }
    for name, (tensor, array) in lies.items():
        if not os.path.exists(j("in", name)):
            shutil.copytree(j("in", "w-mlp"), j("in", name))
            rewrite_tensor(j("in", name), tensor, array)
    # GPT token ids (a 1-block GPT-3-Small-shaped model at sequence 8; vocabulary 50257).
    tokens = {"tok_ok": np.arange(16).reshape(2, 8), "tok_neg": -np.ones((2, 8)), "tok_vocab": np.full((2, 8), 50257),
              "tok_frac": np.full((2, 8), 1.5), "tok_nan": np.full((2, 8), np.nan), "tok_long": np.zeros((2, 9)),
              "tok_3d": np.zeros((2, 8, 1))}
    for name, array in tokens.items():
        np.save(j("in", f"{name}.npy"), array.astype(np.float32))
    # Weights of other networks.
    for name, extra in [("w-mlp-other-widths", ["--model", "mlp", "--mlp-widths", "8,12,4"]),
                        ("w-mlp-seed1", [*SMALL_MLP, "--seed", "1"]),
                        ("w-mlp-2of4", [*SMALL_MLP, "--pattern", "2:4"])]:
        if not os.path.exists(j("in", name)):
            subprocess.run([sift, "weights", *extra, "--out", j("in", name)], check=True, **quiet)
    # A valid plan cache for SMALL_MLP, then every way to spoil it.
    good_plans = j("in", "plans-good.json")
    if not os.path.exists(good_plans):
        subprocess.run([sift, "run", *SMALL_MLP, "--time", "0", "--warmup", "0", "--threads", "1", "--plan-cache", good_plans],
                       check=True, **quiet)
    with open(good_plans) as handle:
        plans = json.load(handle)
    some_key = sorted(plans["entries"])[0]

    def spoiled(change):
        copy = json.loads(json.dumps(plans))
        change(copy)
        return json.dumps(copy, indent=1).encode()

    plan_variants = {
        "empty": b"",
        "not-json": b"{ this is not json",
        "truncated": open(good_plans, "rb").read()[:-20],
        "binary": bytes(range(256)) * 4,
        "array": b"[]",
        "null": b"null",
        "deep": b"[" * 100000 + b"]" * 100000,
        "version-999": spoiled(lambda d: d.update(version=999)),
        "other-format": spoiled(lambda d: d.update(format="something-else")),
        "checksum-mismatch": spoiled(lambda d: d["entries"][some_key]["seconds"].update(
            {k: v * 2 for k, v in d["entries"][some_key]["seconds"].items()})),
        "no-checksum": spoiled(lambda d: d.pop("checksum")),
        "entries-wrong-type": spoiled(lambda d: d.update(entries=[1, 2])),
    }

    def recompute(d):
        canonical = ""
        for key in sorted(d["entries"]):
            entry = d["entries"][key]
            times = ",".join(f"{k}={swift_double(entry['seconds'][k])}" for k in sorted(entry["seconds"]))
            canonical += f"{key}\t{entry['choice']}\t{times}\n"
        d["checksum"] = fnv1a64(canonical.encode())[len("fnv1a64:"):].lstrip("0") or "0"

    # With a correct checksum, so only the entry's content is wrong.
    def unknown_kernel(d):
        entry = d["entries"][some_key]
        entry["seconds"] = {"dense|sk_nope": 1e-6}
        entry["choice"] = "dense|sk_nope"
        recompute(d)

    def negative_time(d):
        entry = d["entries"][some_key]
        entry["seconds"] = {k: -1.0 for k in entry["seconds"]}
        recompute(d)

    def wrong_format_choice(d):
        # A kernel that exists but cannot run this layer (the layer is dense: no CSR mask).
        entry = d["entries"][some_key]
        entry["seconds"] = {"nm 2:4|sk_f32_spmm_nm__scalar_1x64": 1e-9}
        entry["choice"] = "nm 2:4|sk_f32_spmm_nm__scalar_1x64"
        recompute(d)

    plan_variants["unknown-kernel"] = spoiled(unknown_kernel)
    plan_variants["negative-time"] = spoiled(negative_time)
    plan_variants["valid-checksum-impossible-kernel"] = spoiled(wrong_format_choice)
    for name, data in plan_variants.items():
        with open(j("in", f"plans-{name}.json"), "wb") as handle:
            handle.write(data)
    # Tuning files (for 1 thread: the search that follows an ignored file takes ~25 s).
    tuning_variants = {
        "not-json": b"{ not json",
        "empty": b"",
        "version-9": b'{"format": "sift-kernel-tuning", "version": 9, "records": []}',
        "other-format": b'{"format": "x", "version": 1, "records": []}',
    }
    for name, data in tuning_variants.items():
        with open(j("in", f"tuning-{name}.json"), "wb") as handle:
            handle.write(data)
    # Simulator configs.
    defaults = json.loads(subprocess.run([sift, "simulate", "config", "--defaults"], check=True, **quiet).stdout)

    def config(change):
        copy = json.loads(json.dumps(defaults))
        change(copy)
        return json.dumps(copy, indent=1).encode()

    def set_value(section, key, value):
        return lambda d: d["parameters"][section][key].update(value=value)

    config_variants = {
        "empty": b"",
        "not-json": b"{ mesh: 1 ",
        "truncated": json.dumps(defaults).encode()[:200],
        "array": b"[]",
        "yaml": b"mesh:\n  width: 4\n",
        "version-99": config(lambda d: d.update(format_version=99)),
        "width-zero": config(set_value("mesh", "width", 0)),
        "width-negative": config(set_value("mesh", "width", -4)),
        "width-fraction": config(set_value("mesh", "width", 2.5)),
        "width-string": config(set_value("mesh", "width", "wide")),
        "width-null": config(set_value("mesh", "width", None)),
        "width-huge": config(set_value("mesh", "width", 10 ** 30)),
        "width-int-max": config(set_value("mesh", "width", 9223372036854775807)),
        "clock-zero": config(set_value("mesh", "clock_hz", 0)),
        "clock-negative": config(set_value("mesh", "clock_hz", -1e9)),
        "sram-zero": config(set_value("sram", "bytes_per_core", 0)),
        "sram-tiny": config(set_value("sram", "bytes_per_core", 16)),
        "lanes-zero": config(set_value("core", "fmac_fp16_lanes", 0)),
        "banks-zero": config(set_value("sram", "banks", 0)),
        "link-zero": config(set_value("fabric", "link_payload_bits", 0)),
        "io-zero": config(set_value("io", "inbound_bits_per_second", 0)),
        "region-bigger-than-mesh": config(lambda d: (d["parameters"]["mapping"]["region_width"].update(value=100000))),
        "unknown-parameter": config(lambda d: d["parameters"]["mesh"].update(depth={"value": 3, "unit": "cores"})),
        "unknown-section": config(lambda d: d["parameters"].update(warp={"drive": {"value": 9}})),
        "unknown-component": config(lambda d: d["parameters"]["components"]["core"].update(value="quantum")),
        "extends-missing": config(lambda d: d.update(extends="no-such-config.json")),
        "extends-itself": config(lambda d: d.update(extends="cfg-extends-itself.json")),
        "extends-dev-zero": config(lambda d: d.update(extends="/dev/zero")),
    }
    for name, data in config_variants.items():
        with open(j("in", f"cfg-{name}.json"), "wb") as handle:
            handle.write(data)
    # Report shards: two halves of one plan, one half of another plan.
    for name, extra in [("shard-1-of-2", ["--shard", "1/2"]), ("shard-2-of-2", ["--shard", "2/2"]),
                        ("other-plan-shard-2-of-2", ["--shard", "2/2", "--product-shape", "64x64x64"]),
                        ("unsharded", [])]:
        if not os.path.exists(j("in", name)):
            subprocess.run([sift, "report", "--sweeps", "accelerator-products", "--quiet", *extra, "--out", j("in", name)],
                           check=True, **quiet)
    if not os.path.exists(j("in", "shard-2-tampered")):
        shutil.copytree(j("in", "shard-2-of-2"), j("in", "shard-2-tampered"))
        with open(j("in", "shard-2-tampered", "accelerator-products.csv"), "r+") as handle:
            text = handle.read()
            handle.seek(0)
            handle.truncate()
            handle.write(text[: len(text) // 2])
    if not os.path.exists(j("in", "shard-2-no-manifest")):
        shutil.copytree(j("in", "shard-2-of-2"), j("in", "shard-2-no-manifest"))
        os.remove(j("in", "shard-2-no-manifest", "manifest.json"))
    # Sweep CSVs of `sift run sweep --shard`.
    for index in (1, 2):
        target = j("in", f"sweep-{index}-of-2.csv")
        if not os.path.exists(target):
            subprocess.run([sift, "run", "sweep", *SMALL_MLP, *QUICK_RUN, "--transforms", "wide", "--sparsities", "0.5,0.75",
                            "--shard", f"{index}/2", "--out", target], check=True, **quiet)
    # `sift run --onnx` (issue 9) is tested when this build has it.
    run_help = subprocess.run([sift, "run", "--help"], **quiet).stdout.decode()
    return {"plans": list(plan_variants), "tuning": list(tuning_variants), "configs": list(config_variants),
            "run_onnx": "--onnx" in run_help, "onnx": list(malformed_onnxs(open(j("in", "mlp.onnx"), "rb").read()))}


def swift_double(value):
    """A Double as Swift's description prints it (shortest round-trip form)."""
    text = repr(float(value))
    if "e" in text:
        mantissa, exponent = text.split("e")
        sign = "-" if exponent.startswith("-") else ""
        return f"{mantissa}e{sign}{exponent.lstrip('+-').lstrip('0').rjust(2, '0')}"
    return text


def valid_plan_cache(path):
    import json
    try:
        with open(path) as handle:
            data = json.load(handle)
    except (OSError, ValueError) as error:
        return [f"NOT REBUILT: {path} is not a valid plan cache after the run ({error})"]
    if data.get("format") != "sift-plan-cache" or not data.get("entries"):
        return [f"NOT REBUILT: {path} after the run: format {data.get('format')!r}, {len(data.get('entries') or [])} entries"]
    return []


def valid_tuning_file(path):
    import json
    try:
        with open(path) as handle:
            data = json.load(handle)
    except (OSError, ValueError) as error:
        return [f"NOT REBUILT: {path} is not a valid tuning file after the run ({error})"]
    if data.get("format") != "sift-kernel-tuning" or not data.get("records"):
        return [f"NOT REBUILT: {path} after the run has no record"]
    return []


def state_cases(names):
    all_cases = []
    add = lambda *a, **k: all_cases.append(Case(*a, **k))
    o = lambda name: os.path.join("out", name)

    # Weights that parse and match the manifest but hold the wrong numbers or another network.
    lying = ["in/w-nan", "in/w-inf", "in/w-huge", "in/w-wrong-shape", "in/w-transposed", "in/w-bias-nan",
             "in/w-mlp-other-widths", "in/w-mlp-seed1", "in/w-mlp-2of4"]
    for path in lying:
        # Another seed is a valid set of weights for this network: only a crash counts. Huge
        # but finite weights are valid to export and to benchmark; running them on data
        # overflows, which `reference` and `run --input` must refuse.
        expect = "either" if path == "in/w-mlp-seed1" else "refuse"
        finite = "either" if path == "in/w-huge" else expect
        add(f"reference --weights {path}", ["reference", *SMALL_MLP, "--weights", path, "--input", "in/x_mlp.npy",
                                            "--output", o("y.npy")], [o("y.npy")], expect=expect)
        add(f"run --weights {path} --input", ["run", *SMALL_MLP, "--weights", path, "--input", "in/x_mlp.npy",
                                              "--output", o("y.npy"), "--no-plan-cache"], [o("y.npy")], expect=expect)
        add(f"run --weights {path} benchmark", ["run", *SMALL_MLP, "--weights", path, *QUICK_RUN], [], expect=finite)
        add(f"export --weights {path}", ["export", *SMALL_MLP, "--weights", path, "--onnx", o("m.onnx")], [o("m.onnx")],
            expect=finite)
    for args in [["--mlp-widths", "8,16,5"], ["--transform", "wide", "--sparsity", "0.5"], ["--sparsity", "0.5"],
                 ["--pattern", "2:4"], ["--model", "resnet18-cifar"]]:
        add(f"run w-mlp under {' '.join(args)}", ["run", *SMALL_MLP, *args, "--weights", "in/w-mlp", *QUICK_RUN], [])
        add(f"export w-mlp under {' '.join(args)}", ["export", *SMALL_MLP, *args, "--weights", "in/w-mlp", "--onnx",
                                                     o("m.onnx")], [o("m.onnx")])
    add("run sweep w/ --weights is not an option", ["run", "sweep", *SMALL_MLP, "--weights", "in/w-mlp", "--out", o("s.csv")],
        [o("s.csv")])

    # ONNX files through the runtime.
    if names["run_onnx"]:
        for name in names["onnx"]:
            path = f"in/bad-{name}.onnx"
            e = "either" if name.startswith("bitflip") else "refuse"
            add(f"run --onnx {path}", ["run", "--onnx", path, *QUICK_RUN], [], expect=e)
            add(f"run --onnx {path} --input", ["run", "--onnx", path, "--input", "in/x_mlp.npy", "--output", o("y.npy"),
                                               "--no-plan-cache"], [o("y.npy")], expect=e)
        for inp in ["in/x_mlp_wrong.npy", "in/x_mlp_nan.npy", "in/x_mlp_huge.npy", "in/x_mlp_empty.npy", "in/bad-truncated-data.npy"]:
            add(f"run --onnx mlp.onnx --input {inp}", ["run", "--onnx", "in/mlp.onnx", "--input", inp, "--output", o("y.npy"),
                                                       "--no-plan-cache"], [o("y.npy")])
        add("run --onnx with --model", ["run", "--onnx", "in/mlp.onnx", *SMALL_MLP, *QUICK_RUN], [], expect="either")
        add("run --onnx a directory", ["run", "--onnx", "in/a-directory", *QUICK_RUN], [])
        add("run --onnx a fifo", ["run", "--onnx", "in/a-fifo", *QUICK_RUN], [])

    # The environment is input too.
    for variable, value in [("SIFT_THREADS", "-1"), ("SIFT_THREADS", "0"), ("SIFT_THREADS", "abc"), ("SIFT_THREADS", "100000"),
                            ("SIFT_THREADS", "99999999999999999999"), ("SIFT_ISA", "nope"), ("SIFT_ISA", "AVX512 ")]:
        for command in [["run", *SMALL_MLP, "--time", "0", "--warmup", "0", "--no-plan-cache"],
                        ["kernels", "multiply", "--weights", "in/W.npy", "--input", "in/X.npy", "--format", "csr", "--out",
                         o("y.npy")]]:
            add(f"{command[0]} with {variable}={value!r}", command, [o("y.npy")], env={variable: value})
    for value in ["in/a-fifo", "/dev/zero", "in/a-directory", "in/W.npy", "/etc/hostname", "in/nope.so"]:
        add(f"bench --compare with SIFT_BLAS={value}", ["kernels", "bench", "--compare", "--formats", "dense", "--shapes",
                                                         "8x8x8", "--threads", "1"], [], expect="either", timeout=120,
            env={"SIFT_BLAS": value})
    add("run with XDG_CACHE_HOME a file", ["run", *SMALL_MLP, "--time", "0", "--warmup", "0", "--threads", "1"], ["in/W.npy"],
        expect="warn", env={"XDG_CACHE_HOME": os.path.abspath("in/W.npy")})

    # Token ids outside the vocabulary, fractional, NaN, or the wrong sequence length.
    gpt = ["--model", "gpt3-small", "--layers", "1", "--sequence", "8"]
    for name in ["tok_neg", "tok_vocab", "tok_frac", "tok_nan", "tok_long", "tok_3d"]:
        add(f"run gpt --input in/{name}.npy", ["run", *gpt, "--input", f"in/{name}.npy", "--output", o("y.npy"),
                                              "--no-plan-cache", "--threads", "1"], [o("y.npy")], timeout=120)

    # Batch sizes the issue names.
    for value in ["0", "-1", "-64", "99999999999"]:
        add(f"run --batch-size {value} (explicit)", ["run", *SMALL_MLP, *QUICK_RUN, "--batch-size", value], [])
        add(f"run sweep --batch-size {value} (explicit)", ["run", "sweep", *SMALL_MLP, *QUICK_RUN, "--transforms", "wide",
                                                           "--sparsities", "0.5", "--batch-size", value, "--out", o("s.csv")],
            [o("s.csv")])
        add(f"simulate --batch-size {value} (explicit)", ["simulate", *SMALL_MLP, "--quiet", "--batch-size", value], [])
    for limit in ["1B", "100", "1KiB", "0"]:
        add(f"run --memory-limit {limit} (explicit)", ["run", "--model", "resnet18-cifar", "--batch-size", "8", *QUICK_RUN,
                                                       "--memory-limit", limit], [])
        add(f"run --memory-limit {limit} --input", ["run", *SMALL_MLP, "--input", "in/x_mlp.npy", "--output", o("y.npy"),
                                                    "--no-plan-cache", "--memory-limit", limit], [o("y.npy")])

    # Plan caches that must be ignored with a warning and rebuilt.
    for name in names["plans"]:
        source, target = os.path.join("in", f"plans-{name}.json"), o(f"plans-{name}.json")
        # A valid file whose entry names a kernel the layer cannot run: the entry must not be
        # used (the run must still succeed); no warning is required.
        expect = "either" if name == "valid-checksum-impossible-kernel" else "warn"
        add(f"run --plan-cache plans-{name}", ["run", *SMALL_MLP, "--time", "0", "--warmup", "0", "--threads", "1",
                                               "--plan-cache", target], [], expect=expect,
            setup=lambda s=source, t=target: shutil.copy(s, t),
            check=lambda work, out, t=target: valid_plan_cache(os.path.join(work, t)))
    add("run default plan cache corrupt", ["run", *SMALL_MLP, "--time", "0", "--warmup", "0", "--threads", "1"], [],
        expect="warn", setup=lambda: (os.makedirs("cache/sift", exist_ok=True), shutil.copy("in/plans-not-json.json",
                                                                                              "cache/sift/plans.json")),
        check=lambda work, out: valid_plan_cache(os.path.join(work, "cache/sift/plans.json")))
    for path in ["in/a-directory", "in/a-fifo", "/dev/null", "in/W.npy/x", "in/loop-link"]:
        add(f"run --plan-cache {path}", ["run", *SMALL_MLP, "--time", "0", "--warmup", "0", "--threads", "1",
                                         "--plan-cache", path], [path, "in/W.npy"], expect="either", timeout=30)

    # Tuning files.
    for name in names["tuning"]:
        source, target = os.path.join("in", f"tuning-{name}.json"), o(f"tuning-{name}.json")
        add(f"multiply --tuning tuning-{name}", ["kernels", "multiply", "--weights", "in/W.npy", "--input", "in/X.npy",
                                                 "--format", "dense", "--threads", "1", "--tuning", target, "--out",
                                                 o(f"y-{name}.npy")], [], expect="warn", timeout=240, env={"SIFT_TUNING": ""},
            setup=lambda s=source, t=target: shutil.copy(s, t),
            check=lambda work, out, t=target: valid_tuning_file(os.path.join(work, t)))
    for path in ["in/a-directory", "in/a-fifo", "/dev/null", o("link-out.npy"), "in/W.npy/x"]:
        add(f"kernels tune --tuning {path}", ["kernels", "tune", "--threads", "1", "--budget", "1", "--tuning", path],
            [path, "in/W.npy"], env={"SIFT_TUNING": ""}, timeout=60)
    for value in ["-1", "nan", "inf", "1e400", "99999", "abc", ""]:
        add(f"kernels tune --budget {value!r}", ["kernels", "tune", "--threads", "1", "--budget", value, "--tuning",
                                                 o("t.json")], [o("t.json")], env={"SIFT_TUNING": ""}, timeout=60)
    add("kernels tune --threads 0", ["kernels", "tune", "--threads", "0", "--budget", "1", "--tuning", o("t.json")],
        [o("t.json")], env={"SIFT_TUNING": ""})
    for extra in [["--format", "nope"], ["--format", ""], ["--format", "csr,nm"]]:
        add(f"kernels list {' '.join(extra)}", ["kernels", "list", *extra], [])

    # Simulator configs.
    for name in names["configs"]:
        path = f"in/cfg-{name}.json"
        add(f"simulate --config cfg-{name}", ["simulate", *SMALL_MLP, "--quiet", "--config", path], [], timeout=120)
        add(f"simulate config --config cfg-{name}", ["simulate", "config", "--config", path], [])
        add(f"simulate matmul --config cfg-{name}", ["simulate", "matmul", "--m", "64", "--k", "64", "--n", "64", "--quiet",
                                                     "--config", path], [], timeout=120)
    add("report --accelerator-config cfg-width-zero", ["report", "--accelerator-config", "in/cfg-width-zero.json", "--sweeps",
                                                      "accelerator-products", "--quiet", "--out", o("r")], [o("r")])
    add("simulate --model nope (explicit)", ["simulate", "--model", "nope", "--quiet"], [])
    add("simulate sweep --model nope", ["simulate", "sweep", "--model", "nope", "--quiet"], [])
    add("simulate matmul impossible size", ["simulate", "matmul", "--m", "9223372036854775807", "--k", "9223372036854775807",
                                            "--n", "9223372036854775807", "--quiet"], [])
    add("simulate matmul m*k overflow", ["simulate", "matmul", "--m", "4294967296", "--k", "4294967296", "--n", "1",
                                         "--quiet"], [])
    add("simulate sram too small for the layer", ["simulate", "--model", "resnet18-cifar", "--quiet", "--mode", "analytical",
                                                  "--set", "sram.bytes_per_core=64", "--no-dense-baseline"], [], timeout=120)
    add("simulate pipelined: model does not fit the mesh", ["simulate", "--model", "gpt3-small", "--execution", "pipelined",
                                                            "--config", "research-mesh", "--quiet", "--mode", "analytical",
                                                            "--no-dense-baseline"], [], expect="either", timeout=120)

    # Report merges.
    merges = {
        "one shard of two": ["in/shard-1-of-2"],
        "the same shard twice": ["in/shard-1-of-2", "in/shard-1-of-2"],
        "shards of two plans": ["in/shard-1-of-2", "in/other-plan-shard-2-of-2"],
        "a shard and an unsharded report": ["in/shard-1-of-2", "in/unsharded"],
        "a truncated shard CSV": ["in/shard-1-of-2", "in/shard-2-tampered"],
        "a shard without manifest": ["in/shard-1-of-2", "in/shard-2-no-manifest"],
        "a shard and a weights folder": ["in/shard-1-of-2", "in/w-mlp"],
        "a shard and a file": ["in/shard-1-of-2", "in/W.npy"],
        "a shard and a fifo": ["in/shard-1-of-2", "in/a-fifo"],
        "one sweep CSV of two": ["in/sweep-1-of-2.csv"],
        "a sweep CSV twice": ["in/sweep-1-of-2.csv", "in/sweep-1-of-2.csv"],
        "a sweep CSV and garbage": ["in/sweep-1-of-2.csv", "in/garbage.csv"],
        "a sweep CSV and a shard folder": ["in/sweep-1-of-2.csv", "in/shard-2-of-2"],
        "a sweep CSV and an npy": ["in/sweep-1-of-2.csv", "in/W.npy"],
    }
    for name, folders in merges.items():
        out = o("merged.csv") if any(f.endswith(".csv") for f in folders) else o("merged")
        add(f"report --merge {name}", ["report", "--merge", *folders, "--out", out], [out, *folders])
    add("report --merge both shards --out a file", ["report", "--merge", "in/shard-1-of-2", "in/shard-2-of-2", "--out",
                                                    o("regular.txt")], [o("regular.txt")])
    add("report --merge both shards --out a shard", ["report", "--merge", "in/shard-1-of-2", "in/shard-2-of-2", "--out",
                                                     "in/shard-1-of-2"], ["in/shard-1-of-2"], expect="either")
    add("report --merge with --shard", ["report", "--merge", "in/shard-1-of-2", "in/shard-2-of-2", "--shard", "1/2", "--out",
                                        o("merged")], [o("merged")])
    add("report --merge sweep CSVs --out a folder", ["report", "--merge", "in/sweep-1-of-2.csv", "in/sweep-2-of-2.csv",
                                                     "--out", o("full-dir")], [o("full-dir")])
    add("report --measured-columns nope", ["report", "--merge", "in/sweep-1-of-2.csv", "in/sweep-2-of-2.csv",
                                           "--measured-columns", "nope", "--out", o("merged.csv")], [o("merged.csv")],
        expect="either")
    # The bench refuses an impossible shape before it measures anything: nothing on stdout
    # (with --json, a partial result list would be lost anyway).
    nothing_printed = lambda work, out: [f"PRINTED BEFORE REFUSING: {out.strip()[:200]!r}"] if out.strip() else []
    for shapes in ["16x16x16,16x70000x16", "16x16x16,100000x100000x100000", "16x16x16,0x16x16"]:
        for extra in [[], ["--json"]]:
            add(f"bench refuses {shapes} before running {' '.join(extra)}", ["kernels", "bench", "--shapes", shapes, "--formats",
                                                                             "dense,csr", "--threads", "1", *extra], [],
                check=nothing_printed)

    # Interrupted runs: SIGTERM mid-write leaves the previous output (or none), no partial file.
    add("weights killed mid-run, replacing earlier weights", ["weights", "--model", "gpt3-small", "--out", o("w-earlier")],
        [o("w-earlier")], kill_after=2, timeout=60,
        setup=lambda: None if os.path.exists(o("w-earlier")) else shutil.copytree("in/w-mlp", o("w-earlier")))
    add("weights killed mid-run, new folder", ["weights", "--model", "gpt3-small", "--out", o("killed-weights")],
        [o("killed-weights")], kill_after=2, timeout=60)
    add("export killed mid-run", ["export", "--model", "gpt3-small", "--onnx", o("regular.txt")], [o("regular.txt")],
        kill_after=2, timeout=60)
    add("report killed mid-run", ["report", "--out", o("killed-report"), "--quiet"], [o("killed-report")], kill_after=3,
        timeout=60)
    add("run sweep killed mid-run", ["run", "sweep", *SMALL_MLP, "--threads", "1", "--no-plan-cache", "--out",
                                     o("regular.txt")], [o("regular.txt")], kill_after=2, timeout=60)

    for shard in ["0/2", "3/2", "1/0", "-1/2", "a/b", "1/2/3", "99999999999999999999/99999999999999999999"]:
        add(f"report --shard {shard} (explicit)", ["report", "--shard", shard, "--sweeps", "accelerator-products", "--quiet",
                                                   "--out", o("r")], [o("r")])
    return all_cases


# --------------------------------------------------------------------------- the cases

BAD_NUMBERS = ["-1", "0", "-0", "nan", "inf", "-inf", "1e400", "99999999999999999999", "9223372036854775807",
               "-9223372036854775808", "abc", "", "1.5", "0x10", " 3"]


def cases(npy_names, onnx_names):
    all_cases = []
    add = lambda *a, **k: all_cases.append(Case(*a, **k))
    o = lambda name: os.path.join("out", name)

    # Files as inputs, wherever a command reads one.
    file_inputs = [f"in/bad-{n}.npy" for n in npy_names] + [
        "in/a-directory", "in/a-fifo", "/dev/zero", "/dev/null", "in/dangling-link", "in/loop-link", "in/nope.npy",
        "in/W.npy/inside", "/proc/self/mem"]
    for path in file_inputs:
        # float16 is a valid numpy file, converted exactly to float32; it fits the MLP's input.
        e = "either" if path.endswith("float16.npy") else "refuse"
        add(f"multiply --weights {path}", ["kernels", "multiply", "--weights", path, "--input", "in/X.npy", "--format", "dense",
                                          "--out", o("y.npy")], [o("y.npy")], expect=e)
        add(f"multiply --input {path}", ["kernels", "multiply", "--weights", "in/W.npy", "--input", path, "--format", "csr",
                                        "--out", o("y.npy")], [o("y.npy")], expect=e)
        add(f"reference --input {path}", ["reference", *SMALL_MLP, "--weights", "in/w-mlp", "--input", path,
                                          "--output", o("y.npy")], [o("y.npy")], expect=e)
        add(f"run --input {path}", ["run", *SMALL_MLP, "--input", path, "--output", o("y.npy"), "--no-plan-cache"], [o("y.npy")], expect=e)
        add(f"import --input {path}", ["import", "--onnx", "in/mlp.onnx", "--input", path, "--output", o("y.npy")], [o("y.npy")], expect=e)
    for flag in ["--bias", "--residual"]:
        for path in ["in/bad-nan.npy", "in/bias7.npy", "in/W3d.npy", "in/a-fifo", "in/bad-truncated-data.npy"]:
            add(f"multiply {flag} {path}", ["kernels", "multiply", "--weights", "in/W.npy", "--input", "in/X.npy", "--format",
                                           "dense", flag, path, "--out", o("y.npy")], [o("y.npy")])
    # Inputs that parse but do not fit.
    for weights, inp, fmt in [("in/W3d.npy", "in/X.npy", ["--format", "dense"]),
                              ("in/W.npy", "in/X_other_k.npy", ["--format", "dense"]),
                              ("in/W_nan.npy", "in/X.npy", ["--format", "csr"]),
                              ("in/W_overflow.npy", "in/X_huge.npy", ["--format", "dense"]),
                              ("in/W.npy", "in/X.npy", ["--format", "nm", "--nm", "1:4"]),
                              ("in/W.npy", "in/X.npy", ["--format", "nm", "--nm", "2:32"]),
                              ("in/W.npy", "in/X.npy", ["--format", "nm", "--nm", "5:4"]),
                              ("in/W.npy", "in/X.npy", ["--format", "nm", "--nm", "0:4"]),
                              ("in/W.npy", "in/X.npy", ["--format", "nm", "--nm", "2:0"]),
                              ("in/W.npy", "in/X.npy", ["--format", "nm", "--nm", "-2:4"]),
                              ("in/W.npy", "in/X.npy", ["--format", "nm", "--nm", "99999999999999999999:4"]),
                              ("in/W.npy", "in/X.npy", ["--format", "nm"]),
                              ("in/W.npy", "in/X.npy", ["--format", "bsr", "--block", "64x64"]),
                              ("in/W.npy", "in/X.npy", ["--format", "bsr", "--block", "0x4"]),
                              ("in/W.npy", "in/X.npy", ["--format", "bsr", "--block", "3x3"]),
                              ("in/W.npy", "in/X.npy", ["--format", "bsr", "--block", "-4x4"]),
                              ("in/W.npy", "in/X.npy", ["--format", "bsr", "--block", "4x"]),
                              ("in/W.npy", "in/X.npy", ["--format", "ell"]),
                              ("in/W.npy", "in/X.npy", ["--format", "dense", "--kernel", "sk_nope"]),
                              ("in/W.npy", "in/X.npy", ["--format", "dense", "--kernel", "sk_f32_spmm_csr__scalar_1x256"]),
                              ("in/W.npy", "in/X.npy", ["--format", "dense", "--activation", "tanh"]),
                              ("in/W.npy", "in/X.npy", ["--format", "dense", "--activation", "gelu", "--relu"]),
                              ("in/W.npy", "in/X.npy", ["--format", "dense", "--isa", "sse2"]),
                              ("in/W.npy", "in/X.npy", ["--format", "dense", "--bias", "in/bias7.npy"])]:
        add(f"multiply {weights} {inp} {' '.join(fmt)}", ["kernels", "multiply", "--weights", weights, "--input", inp, *fmt,
                                                          "--out", o("y.npy")], [o("y.npy")])
    for value in BAD_NUMBERS:
        add(f"multiply --threads {value!r}", ["kernels", "multiply", "--weights", "in/W.npy", "--input", "in/X.npy", "--format",
                                             "dense", "--threads", value, "--out", o("y.npy")], [o("y.npy")])

    # Outputs of every awkward kind, for every command that writes.
    bad_outputs = [o("link-out.npy"), o("fifo"), "/dev/null", o("full-dir"), "in/a-directory", o("no/such/dir/y.npy"),
                   "in/W.npy/inside", o("")]
    multiply = ["kernels", "multiply", "--weights", "in/W.npy", "--input", "in/X.npy", "--format", "dense", "--out"]
    for path in bad_outputs:
        watch = [path, "in/W.npy"] if path else []
        add(f"multiply --out {path}", multiply + [path], watch)
        add(f"reference --output {path}", ["reference", *SMALL_MLP, "--weights", "in/w-mlp", "--input", "in/x_mlp.npy",
                                           "--output", path], watch)
        add(f"export --onnx {path}", ["export", *SMALL_MLP, "--onnx", path], watch)
        add(f"import --output {path}", ["import", "--onnx", "in/mlp.onnx", "--input", "in/x_mlp.npy", "--output", path], watch)
        add(f"run --output {path}", ["run", *SMALL_MLP, "--input", "in/x_mlp.npy", "--output", path, "--no-plan-cache"], watch)
        add(f"run sweep --out {path}", ["run", "sweep", *SMALL_MLP, *QUICK_RUN, "--transforms", "wide", "--sparsities", "0.5",
                                        "--out", path], watch)
        add(f"simulate sweep --out {path}", ["simulate", "sweep", "--m", "8", "--k", "8", "--n", "8", "--sparsities", "0.5",
                                             "--out", path, "--quiet"], watch)
    dir_outputs = [o("link-out.npy"), o("fifo"), "/dev/null", o("full-dir"), o("regular.txt"), "in/W.npy/inside", "/", "/proc"]
    for path in dir_outputs:
        add(f"weights --out {path}", ["weights", *SMALL_MLP, "--out", path], [path])
        add(f"traces --out {path}", ["traces", "--out", path], [path], timeout=120)
        add(f"simulate --out {path}", ["simulate", *SMALL_MLP, "--out", path, "--quiet"], [path])
        add(f"simulate matmul --out {path}", ["simulate", "matmul", "--m", "8", "--k", "8", "--n", "8", "--sparsity", "0.5",
                                              "--out", path, "--quiet"], [path])
        add(f"report --out {path}", ["report", "--out", path, "--sweeps", "accelerator-products", "--quiet"], [path])
        add(f"report --merge in/w-mlp --out {path}", ["report", "--merge", "in/w-mlp", "--out", path], [path])

    # Weights directories that do not belong to the command.
    weight_dirs = ["in/w-mlp-wide", "in/w-swapped", "in/w-no-manifest", "in/w-bad-manifest", "in/w-missing-tensor",
                   "in/w-malformed-tensor", "in/w-tensor-is-dir", "in/w-tensor-is-fifo", "in/a-directory", "in/W.npy",
                   "in/a-fifo", "in/nope", "/dev/null", "/"]
    for path in weight_dirs:
        add(f"reference --weights {path}", ["reference", *SMALL_MLP, "--weights", path, "--input", "in/x_mlp.npy",
                                            "--output", o("y.npy")], [o("y.npy")])
        add(f"run --weights {path}", ["run", *SMALL_MLP, "--weights", path, *QUICK_RUN], [])
        add(f"export --weights {path}", ["export", *SMALL_MLP, "--weights", path, "--onnx", o("m.onnx")], [o("m.onnx")])
    for args in [["--mlp-widths", "8,16,5"], ["--transform", "wide", "--sparsity", "0.5"], ["--sparsity", "0.5"],
                 ["--pattern", "2:4"], ["--model", "resnet18-cifar"]]:
        add(f"reference w-mlp under {' '.join(args)}", ["reference", *SMALL_MLP, *args, "--weights", "in/w-mlp", "--input",
                                                        "in/x_mlp.npy", "--output", o("y.npy")], [o("y.npy")])
    for inp in ["in/x_mlp_wrong.npy", "in/x_mlp_nan.npy", "in/x_mlp_huge.npy", "in/x_mlp_empty.npy", "in/X.npy"]:
        add(f"reference --input {inp}", ["reference", *SMALL_MLP, "--weights", "in/w-mlp", "--input", inp,
                                         "--output", o("y.npy")], [o("y.npy")])
        add(f"run --input {inp}", ["run", *SMALL_MLP, "--input", inp, "--output", o("y.npy"), "--no-plan-cache"], [o("y.npy")])
        add(f"import --input {inp}", ["import", "--onnx", "in/mlp.onnx", "--input", inp, "--output", o("y.npy")], [o("y.npy")])

    # ONNX files.
    for name in list(onnx_names) + ["../a-directory", "../a-fifo"]:
        path = f"in/bad-{name}.onnx" if not name.startswith("..") else "in/" + name[3:]
        # A bit flipped inside a weight's bytes gives another valid model: only a crash counts.
        add(f"import --onnx {path}", ["import", "--onnx", path], [], expect="either" if name.startswith("bitflip") else "refuse")
    for path in ["/dev/zero", "in/dangling-link", "in/nope.onnx"]:
        add(f"import --onnx {path}", ["import", "--onnx", path], [])
    add("import --input without --output", ["import", "--onnx", "in/mlp.onnx", "--input", "in/x_mlp.npy"], [])

    # Models, transforms, patterns, sparsities: through every command that builds a model.
    model_commands = {
        "transform": ["transform"],
        "weights": ["weights", "--out", o("w")],
        "export": ["export", "--onnx", o("m.onnx")],
        "simulate": ["simulate", "--quiet", "--mode", "analytical", "--no-dense-baseline"],
        "run": ["run", *QUICK_RUN, "--explain"],
        "traces": ["traces", "--out", o("t")],
    }
    model_variants = [
        ["--model", "nope"], ["--model", ""], ["--model", "MLP"],
        [*SMALL_MLP, "--transform", "nope"], [*SMALL_MLP, "--transform", ""],
        [*SMALL_MLP, "--transform", "wide", "--sparsity", "1"], [*SMALL_MLP, "--transform", "wide", "--sparsity", "-0.1"],
        [*SMALL_MLP, "--transform", "wide", "--sparsity", "nan"], [*SMALL_MLP, "--transform", "wide", "--sparsity", "inf"],
        [*SMALL_MLP, "--transform", "wide", "--sparsity", "1.5"], [*SMALL_MLP, "--transform", "wide", "--sparsity", "abc"],
        [*SMALL_MLP, "--transform", "wide", "--sparsity", "0.99999999999"],
        [*SMALL_MLP, "--transform", "parallel", "--sparsity", "0.9999"],
        [*SMALL_MLP, "--transform", "factorized", "--sparsity", "0.9999"],
        [*SMALL_MLP, "--transform", "doped", "--sparsity", "0.9999"],
        [*SMALL_MLP, "--pattern", "5:4"], [*SMALL_MLP, "--pattern", "0:4"], [*SMALL_MLP, "--pattern", "4:0"],
        [*SMALL_MLP, "--pattern", "2:32"], [*SMALL_MLP, "--pattern", "64x64"], [*SMALL_MLP, "--pattern", "0x4"],
        [*SMALL_MLP, "--pattern", "4x0"], [*SMALL_MLP, "--pattern", "x"], [*SMALL_MLP, "--pattern", ":"],
        [*SMALL_MLP, "--pattern", "2:4", "--sparsity", "0.9"], [*SMALL_MLP, "--pattern", "99999999999999999999:4"],
        [*SMALL_MLP, "--pattern", "9223372036854775807x9223372036854775807", "--sparsity", "0.5"],
        [*SMALL_MLP, "--pattern", "1:9223372036854775807"],
        [*SMALL_MLP, "--distribution", "nope"], [*SMALL_MLP, "--parallel-activation", "nope", "--transform", "parallel"],
        [*SMALL_MLP, "--doped-lowrank", "nope", "--transform", "doped"],
        ["--model", "mlp", "--mlp-widths", ""], ["--model", "mlp", "--mlp-widths", ","], ["--model", "mlp", "--mlp-widths", "8"],
        ["--model", "mlp", "--mlp-widths", "0,4"], ["--model", "mlp", "--mlp-widths", "-8,4"], ["--model", "mlp", "--mlp-widths", "8,,4"],
        ["--model", "mlp", "--mlp-widths", "8,99999999999999999999"], ["--model", "mlp", "--mlp-widths", "8,9223372036854775807"],
        ["--model", "mlp", "--mlp-widths", "1000000,1000000,10"], ["--model", "mlp", "--mlp-widths", "8,16,4", "--sequence", "-1"],
        ["--model", "mlp", "--mlp-widths", ",".join(["8"] * 5000)],
        ["--model", "gpt3-small", "--sequence", "0"], ["--model", "gpt3-small", "--sequence", "-5"],
        ["--model", "gpt3-small", "--sequence", "9223372036854775807"], ["--model", "gpt3-small", "--sequence", "100000000"],
        ["--model", "gpt3-small", "--layers", "0"], ["--model", "gpt3-small", "--layers", "-1"],
        ["--model", "gpt3-small", "--layers", "9223372036854775807"], ["--model", "gpt3-small", "--layers", "100000"],
        ["--model", "resnet18-cifar", "--layers", "2"],
    ]
    for command, prefix in model_commands.items():
        for variant in model_variants:
            if command == "traces":
                variant = variant + ["--transform", "dense"] if "--transform" not in variant else variant
            outs = [prefix[prefix.index("--out") + 1]] if "--out" in prefix else []
            outs += [prefix[prefix.index("--onnx") + 1]] if "--onnx" in prefix else []
            add(f"{command} {' '.join(variant)[:80]}", prefix + variant, outs, expect="either", timeout=120)

    # Numbers: every numeric option of every command.
    numeric = [
        (["models", "--sequence"], []), (["transform", *SMALL_MLP, "--rigl-interval"], []),
        (["transform", "--model", "gpt3-small", "--sequence"], []), (["transform", "--model", "gpt3-small", "--layers"], []),
        (["weights", *SMALL_MLP, "--out", o("w"), "--seed"], [o("w")]),
        (["export", *SMALL_MLP, "--onnx", o("m.onnx"), "--seed"], [o("m.onnx")]),
        (["traces", "--model", "mlp", "--transform", "wide", "--out", o("t"), "--sparsity"], [o("t")]),
        (["traces", "--model", "gpt3-small", "--transform", "dense", "--out", o("t"), "--sequence"], [o("t")]),
        (["kernels", "bench", "--shapes", "16x16x16", "--formats", "dense", "--threads"], []),
        (["kernels", "bench", "--formats", "csr", "--shapes", "16x16x16", "--sparsity"], []),
        (["kernels", "bench", "--formats", "dense", "--shapes"], []),
        (["simulate", *SMALL_MLP, "--quiet", "--batch-size"], []), (["simulate", *SMALL_MLP, "--quiet", "--seed"], []),
        (["simulate", *SMALL_MLP, "--quiet", "--activation-sparsity"], []),
        (["simulate", *SMALL_MLP, "--quiet", "--set", "mesh.clock_hz="], []),
        (["simulate", *SMALL_MLP, "--quiet", "--set", "mesh.width="], []),
        (["simulate", *SMALL_MLP, "--quiet", "--set", "core.sram_bytes="], []),
        (["simulate", "--model", "gpt3-small", "--layers", "1", "--quiet", "--mode", "analytical", "--sequence"], []),
        (["simulate", "matmul", "--k", "8", "--n", "8", "--quiet", "--m"], []),
        (["simulate", "matmul", "--m", "8", "--n", "8", "--quiet", "--k"], []),
        (["simulate", "matmul", "--m", "8", "--k", "8", "--quiet", "--n"], []),
        (["simulate", "matmul", "--m", "8", "--k", "8", "--n", "8", "--quiet", "--sparsity"], []),
        (["simulate", "matmul", "--m", "8", "--k", "8", "--n", "8", "--quiet", "--execution", "pipelined", "--activation-sparsity"], []),
        (["simulate", "sweep", "--m", "8", "--k", "8", "--n", "8", "--quiet", "--sparsities"], []),
        (["simulate", "sweep", *SMALL_MLP, "--quiet", "--mode", "analytical", "--batch-size"], []),
        (["simulate", "sweep", "--m", "8", "--k", "8", "--n", "8", "--quiet", "--shard"], []),
        (["run", *SMALL_MLP, *QUICK_RUN, "--batch-size"], []), (["run", *SMALL_MLP, "--no-plan-cache", "--time", "0", "--threads"], []),
        (["run", *SMALL_MLP, "--no-plan-cache", "--warmup", "0", "--time"], []),
        (["run", *SMALL_MLP, "--no-plan-cache", "--time", "0", "--warmup"], []),
        (["run", *SMALL_MLP, *QUICK_RUN, "--memory-limit"], []), (["run", *SMALL_MLP, *QUICK_RUN, "--profile-rows"], []),
        (["run", *SMALL_MLP, *QUICK_RUN, "--seed"], []),
        (["run", "sweep", *SMALL_MLP, *QUICK_RUN, "--transforms", "wide", "--out", o("s.csv"), "--sparsities"], [o("s.csv")]),
        (["run", "sweep", *SMALL_MLP, *QUICK_RUN, "--transforms", "wide", "--sparsities", "0.5", "--out", o("s.csv"), "--shard"], [o("s.csv")]),
        (["run", "sweep", *SMALL_MLP, *QUICK_RUN, "--transforms", "wide", "--sparsities", "0.5", "--out", o("s.csv"), "--batch-size"], [o("s.csv")]),
        (["report", "--out", o("r"), "--quiet", "--sweeps", "accelerator-products", "--seconds"], [o("r")]),
        (["report", "--out", o("r"), "--quiet", "--sweeps", "accelerator-products", "--shard"], [o("r")]),
        (["report", "--out", o("r"), "--quiet", "--sweeps", "accelerator-products", "--product-shape"], [o("r")]),
        (["report", "--out", o("r"), "--quiet", "--sweeps", "cpu-products", "--threads"], [o("r")]),
    ]
    shard_like = ["0/3", "4/3", "1/0", "-1/3", "1/-3", "/", "1/99999999999999999999", "9223372036854775807/9223372036854775807"]
    shape_like = ["0x16x16", "16x0x16", "-16x16x16", "16x16", "16x16x16x16", "99999999999999999999x1x1",
                  "9223372036854775807x9223372036854775807x9223372036854775807", "100000x100000x100000", "x", "1x1x1,,"]
    # Which values must be refused: never a number (nan, inf, text, empty), negative, or
    # beyond Int64/Double; for sizes also 0 and Int64.max. The rest may be valid for some
    # option (0 for a seed, 1.5 seconds, 0x10 = 16 for a Double): only a crash, a hang or a
    # vague message counts there.
    never_valid = {"-1", "nan", "inf", "-inf", "1e400", "abc", "", "99999999999999999999", "-9223372036854775808"}
    sizes = {"--sequence", "--batch-size", "--threads", "--m", "--k", "--n", "--layers", "mesh.width=", "--profile-rows"}
    for prefix, outs in numeric:
        option = prefix[-1]
        values = BAD_NUMBERS
        refused = set(never_valid)
        if option in sizes:
            refused |= {"0", "-0", "9223372036854775807", "1.5"}
            if not option.endswith("="):
                refused |= {"0x10", " 3"}  # a config value is read as JSON/Double would read it: 0x10 = 16
            if option == "--profile-rows":
                refused.discard("9223372036854775807")  # "all the rows"
        if option in ("--time", "--warmup"):
            # A huge --time is a (very) long run the user asked for, not bad input.
            values = [v for v in BAD_NUMBERS if v not in ("99999999999999999999", "9223372036854775807", "0x10")]
        if option == "--shard":
            values = BAD_NUMBERS[:3] + shard_like
            refused = set(values) - {"9223372036854775807/9223372036854775807"}
        elif option in ("--shapes", "--product-shape"):
            values = shape_like
            refused = set(values)
        elif option == "--memory-limit":
            values = BAD_NUMBERS + ["1B", "-5GiB", "1e30GiB", "GiB", "2 GiB", "nanGiB"]
            refused = set(values) - {"9223372036854775807", "2 GiB"}
        elif option in ("--sparsities",):
            values = BAD_NUMBERS + ["0.5,,0.9", "0.5,1", ","]
            refused = set(values) - {"0", "-0"}
        for value in values:
            args = prefix[:-1] + [prefix[-1] + value] if prefix[-1].endswith("=") else prefix + [value]
            add(f"{' '.join(prefix)[:70]} {value!r}", args, outs, expect="refuse" if value in refused else "either",
                timeout=120)

    # Report and merge inputs.
    for path in ["in/a-directory", "in/W.npy", "in/a-fifo", "in/nope", "/dev/null", "in/bad-empty.npy"]:
        add(f"report --merge {path}", ["report", "--merge", path, "--out", o("merged")], [o("merged")])
    add("report --merge csv garbage", ["report", "--merge", "in/garbage.csv", "--out", o("m.csv")], [o("m.csv")])
    add("report --sweeps nope", ["report", "--sweeps", "nope", "--out", o("r")], [o("r")])
    add("report --accelerator-config nope", ["report", "--accelerator-config", "nope", "--out", o("r"), "--sweeps",
                                             "accelerator-products"], [o("r")])
    add("report --accelerator-config fifo", ["report", "--accelerator-config", "in/a-fifo", "--out", o("r"), "--sweeps",
                                             "accelerator-products"], [o("r")])
    add("report --accelerator-mode nope", ["report", "--accelerator-mode", "nope", "--out", o("r")], [o("r")])

    # Simulator configs.
    for path in ["in/a-directory", "in/a-fifo", "/dev/zero", "in/bad-random.onnx", "in/bad-empty.npy", "in/W.npy", "nope"]:
        add(f"simulate --config {path}", ["simulate", *SMALL_MLP, "--config", path, "--quiet"], [])
    for setting in ["nope=1", "mesh.width", "=", "mesh.width=1e999", "mesh.width=0", "mesh.width=-1", "mesh.clock_hz=nan",
                    "mesh.width=9223372036854775807", "mesh.height=9223372036854775807", "core.sram_bytes=1"]:
        add(f"simulate --set {setting}", ["simulate", *SMALL_MLP, "--set", setting, "--quiet"], [], expect="either")
    for execution in [["--execution", "nope"], ["--mode", "nope"], ["--activation-sparsity", "measured"],
                      ["--activation-sparsity", "nope"], ["--trace-layer", "nope", "--out", o("sim")],
                      ["--execution", "pipelined", "--activation-sparsity", "1"]]:
        add(f"simulate {' '.join(execution)}", ["simulate", *SMALL_MLP, *execution, "--quiet"], [o("sim")], expect="either")

    # Runtime options.
    for extra in [["--kernel", "nope"], ["--isa", "nope"], ["--plan-cache", "in/bad-plans.json"], ["--plan-cache", "in/a-directory"],
                  ["--plan-cache", "in/a-fifo"], ["--plan-cache", "/dev/null"], ["--plan-cache", "in/W.npy/x"],
                  ["--input", "in/x_mlp.npy"], ["--memory-limit", "1B"]]:
        add(f"run {' '.join(extra)}", ["run", *SMALL_MLP, "--time", "0", "--warmup", "0", "--threads", "1", *extra],
            ["in/bad-plans.json"] if "in/bad-plans.json" in extra else [], expect="either")
    for extra in [["--transforms", "nope"], ["--transforms", ""], ["--patterns", "5:4"], ["--patterns", "64x64"],
                  ["--patterns", "2:32"], ["--sparsities", "0.5", "--transforms", "dense,,wide"]]:
        add(f"run sweep {' '.join(extra)}", ["run", "sweep", *SMALL_MLP, *QUICK_RUN, "--sparsities", "0.5", *extra,
                                             "--out", o("s.csv")], [o("s.csv")], expect="either")
    # Kernels bench lists.
    for extra in [["--formats", "nope"], ["--formats", ""], ["--nm", "5:4"], ["--nm", "2:32"], ["--block", "64x64"],
                  ["--block", "0x0"], ["--shapes", "16x70000x16", "--formats", "csr"], ["--isa", "nope"]]:
        add(f"bench {' '.join(extra)}", ["kernels", "bench", "--shapes", "16x16x16", *extra], [], expect="either")
    return all_cases


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sift", default=".build/release/sift")
    parser.add_argument("--only", action="append", help="run only the cases whose name contains this text (repeatable)")
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("--work", help="working folder (default: a new temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the working folder")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument("--verbose", action="store_true", help="print every case's message")
    args = parser.parse_args()
    sift = os.path.abspath(args.sift)
    work = os.path.abspath(args.work) if args.work else tempfile.mkdtemp(prefix="sift-abuse-")
    os.makedirs(work, exist_ok=True)
    npy_names, onnx_names = make_fixtures(sift, work)
    state_names = make_state_fixtures(sift, work)
    os.chdir(work)
    selected = [c for c in cases(npy_names, onnx_names) + state_cases(state_names) if not args.only or any(o in c.name for o in args.only)]
    if args.list:
        for case in selected:
            print(case.name)
        return 0
    failures = 0
    for number, case in enumerate(selected, 1):
        problems = run_case(sift, case, work, args.timeout)
        if problems:
            failures += 1
            print(f"[{number}/{len(selected)}] {case.name}\n    sift {' '.join(case.args)}")
            for problem in problems:
                print(f"    {problem}")
        elif args.verbose:
            print(f"[{number}/{len(selected)}] ok  {case.name}: {case.message[:160]}")
        sys.stdout.flush()
    print(f"{len(selected)} cases, {failures} with problems (work folder {work})")
    if not args.keep and not args.work:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
