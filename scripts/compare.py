#!/usr/bin/env python3
"""Side by side on this machine, in one run: our runtime, DeepSparse 1.8 and ONNX Runtime
on the same ONNX networks (dense and Sparse Wide), and our dense GEMM against the BLAS
libraries of this Python environment, with the thread count matched everywhere.

    make compare                      # builds sift, sets up .venv-compare/, runs this
    .venv-compare/bin/python scripts/compare.py --sift .build/release/sift [--out DIR]

Writes DIR (default reports/compare-<timestamp>/; complete or absent): compare.csv and
compare.md (throughput and latency per engine and network, ratios against DeepSparse,
output agreement against ONNX Runtime), blas.csv and blas.md (GFLOP/s per library and
shape), environment.json (versions, the BLAS kernels really used, the CPU), and prints
the Markdown tables.

Networks come from `sift export` (ONNX with the seeded weights of `sift weights`). A
sift build without `sift export` still compares the `mlp` networks: this script builds
their ONNX itself (Gemm + Relu) from `sift weights`, since an MLP is a plain chain. Our
runtime runs the same file with `sift run --onnx` when the build has it, else the same
weights with `sift run --model ... --weights DIR`; an engine that is not available is
reported as such, never filled in.
"""

import argparse
import csv
import ctypes
import ctypes.util
import datetime
import glob
import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np


# ---------------------------------------------------------------------------------------
# Timing: the same method for every engine and library.

def time_calls(run, seconds, warmup_seconds):
    """Runs `run()` for about `warmup_seconds`, then for about `seconds`, timing every
    call; returns the per-call times (at least 5 calls)."""
    end = time.perf_counter() + warmup_seconds
    run()
    while time.perf_counter() < end:
        run()
    times = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end or len(times) < 5:
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return times


def summarise(times, batch):
    times = sorted(times)
    def percentile(p):
        return times[min(len(times) - 1, int(round(p * (len(times) - 1))))]
    return {
        "items_per_sec": batch * len(times) / sum(times),
        "latency_ms_mean": 1000 * statistics.fmean(times),
        "latency_ms_median": 1000 * statistics.median(times),
        "latency_ms_p90": 1000 * percentile(0.9),
        "iterations": len(times),
    }


def median_seconds(run, sample_seconds=0.02, samples=7):
    """Median seconds per call over `samples` samples of about `sample_seconds` each, the
    method of `sift kernels bench` (warm caches)."""
    run()
    start = time.perf_counter()
    run()
    once = max(time.perf_counter() - start, 1e-7)
    repetitions = max(1, int(sample_seconds / once))
    per_call = []
    for _ in range(samples):
        start = time.perf_counter()
        for _ in range(repetitions):
            run()
        per_call.append((time.perf_counter() - start) / repetitions)
    return statistics.median(per_call)


# ---------------------------------------------------------------------------------------
# sift

class Sift:
    def __init__(self, path):
        self.path = path
        self.commands = set()
        for command in ["export", "run"]:
            # An unknown subcommand's --help prints the root help (exit 0): look for the
            # subcommand's own usage line instead.
            result = subprocess.run([path, command, "--help"], capture_output=True, text=True)
            if result.returncode == 0 and f"sift {command}" in result.stdout.split("OPTIONS")[0]:
                self.commands.add(command)
        self.run_takes_onnx = "run" in self.commands and "--onnx" in subprocess.run(
            [path, "run", "--help"], capture_output=True, text=True).stdout

    def __call__(self, *arguments, check=True):
        result = subprocess.run([self.path, *arguments], capture_output=True, text=True)
        if check and result.returncode != 0:
            raise RuntimeError(f"sift {' '.join(arguments)} failed ({result.returncode}): {result.stderr.strip()}")
        return result


class Unavailable(Exception):
    """An engine or a network this run cannot have; the reason goes into the table."""


def network_arguments(network):
    arguments = ["--model", network["model"], "--transform", network["transform"]]
    if network["sparsity"] > 0:
        arguments += ["--sparsity", str(network["sparsity"])]
    return arguments


def make_onnx(sift, network, folder, batch):
    """The network as ONNX with seeded weights: `sift export`, or for `mlp` a Gemm/Relu
    chain built here from `sift weights` and `sift transform --json`."""
    weights = os.path.join(folder, "weights")
    sift("weights", *network_arguments(network), "--seed", "1", "--out", weights)
    path = os.path.join(folder, "model.onnx")
    if "export" in sift.commands:
        sift("export", *network_arguments(network), "--weights", weights, "--onnx", path)
        return path, weights, "sift export"
    if network["model"] != "mlp":
        raise Unavailable("this sift build has no `sift export`; only mlp can be built without it")
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    report = json.loads(sift("transform", *network_arguments(network), "--json", "--all-nodes").stdout)
    nodes, initializers = [], []
    previous, width = "input", None
    for layer in report["layers"]:
        if layer["kind"] == "input":
            width = layer["output_shape"][-1]
        elif layer["kind"] == "linear":
            name = layer["name"]
            weight = np.load(os.path.join(weights, f"{name}.weight.npy")).astype(np.float32)
            bias_path = os.path.join(weights, f"{name}.bias.npy")
            bias = np.load(bias_path).astype(np.float32) if os.path.exists(bias_path) else np.zeros(weight.shape[0], np.float32)
            initializers += [numpy_helper.from_array(weight, f"{name}.weight"), numpy_helper.from_array(bias, f"{name}.bias")]
            nodes.append(helper.make_node("Gemm", [previous, f"{name}.weight", f"{name}.bias"], [name], transB=1))
            previous = name
        elif layer["kind"] == "relu":
            nodes.append(helper.make_node("Relu", [previous], [layer["name"]]))
            previous = layer["name"]
        else:
            raise Unavailable(f"layer kind {layer['kind']} is not a plain MLP; needs `sift export`")
    outputs = report["layers"][-1]["output_shape"][-1]
    graph = helper.make_graph(nodes, report["network"],
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, [batch, width])],
                              [helper.make_tensor_value_info(previous, TensorProto.FLOAT, [batch, outputs])],
                              initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path, weights, "built by compare.py from `sift weights` (no `sift export` in this build)"


# ---------------------------------------------------------------------------------------
# Engines: each returns (summary, output for the shared input).

def run_ours(sift, network, onnx_path, weights, x, folder, threads, seconds, batch):
    if "run" not in sift.commands:
        raise Unavailable("this sift build has no `sift run` (the CPU runtime)")
    source = ["--onnx", onnx_path] if sift.run_takes_onnx else network_arguments(network) + ["--weights", weights]
    common = ["--threads", str(threads)]
    result = sift("run", *source, *common, "--batch-size", str(batch), "--time", str(seconds), "--json")
    report = json.loads(result.stdout)
    latency = report["latency_ms"]
    summary = {
        "items_per_sec": report["items_per_sec"], "latency_ms_mean": latency["mean"],
        "latency_ms_median": latency["median"], "latency_ms_p90": latency["p90"], "iterations": report["iterations"],
    }
    x_path, y_path = os.path.join(folder, "x.npy"), os.path.join(folder, "y_ours.npy")
    np.save(x_path, x)
    sift("run", *source, *common, "--input", x_path, "--output", y_path)
    return summary, np.load(y_path), ("sift run --onnx" if sift.run_takes_onnx else "sift run --model (same weights)")


def run_deepsparse(onnx_path, x, threads, seconds, warmup, batch):
    try:
        from deepsparse import Engine
    except ImportError as error:
        raise Unavailable(f"deepsparse is not installed ({error})")
    engine = Engine(model=onnx_path, batch_size=batch, num_cores=threads)
    output = engine.run([x])[0]
    times = time_calls(lambda: engine.run([x]), seconds, warmup)
    return summarise(times, batch), output, f"deepsparse {__import__('deepsparse').__version__}, num_cores={threads}"


def run_onnxruntime(onnx_path, x, threads, seconds, warmup, batch):
    try:
        import onnxruntime
    except ImportError as error:
        raise Unavailable(f"onnxruntime is not installed ({error})")
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = onnxruntime.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    output = session.run(None, {name: x})[0]
    times = time_calls(lambda: session.run(None, {name: x}), seconds, warmup)
    return summarise(times, batch), output, f"onnxruntime {onnxruntime.__version__}, intra_op_num_threads={threads}"


# ---------------------------------------------------------------------------------------
# BLAS

def find_mkl():
    """libmkl_rt from the `mkl` wheel (or the system), or None."""
    candidates = glob.glob(os.path.join(sys.prefix, "lib", "libmkl_rt.so*"))
    found = ctypes.util.find_library("mkl_rt")
    if found:
        candidates.append(found)
    for candidate in candidates:
        try:
            return ctypes.CDLL(candidate), candidate
        except OSError:
            continue
    return None, None


def mkl_sgemm(library, m, k, n, threads):
    """A callable that runs C = A·B through MKL's cblas_sgemm on fresh float32 arrays."""
    library.MKL_Set_Num_Threads(ctypes.c_int(threads))
    a = np.random.default_rng(1).standard_normal((m, k), dtype=np.float32)
    b = np.random.default_rng(2).standard_normal((k, n), dtype=np.float32)
    c = np.zeros((m, n), np.float32)
    pointer = ctypes.POINTER(ctypes.c_float)
    args = (ctypes.c_int(101), ctypes.c_int(111), ctypes.c_int(111), ctypes.c_int(m), ctypes.c_int(n), ctypes.c_int(k),
            ctypes.c_float(1.0), a.ctypes.data_as(pointer), ctypes.c_int(k), b.ctypes.data_as(pointer), ctypes.c_int(n),
            ctypes.c_float(0.0), c.ctypes.data_as(pointer), ctypes.c_int(n))
    def run():
        library.cblas_sgemm(*args)
    run()
    if not np.allclose(c, a @ b, rtol=1e-3, atol=1e-3 * np.sqrt(k)):
        raise RuntimeError("MKL cblas_sgemm disagrees with numpy's product")
    return run


class MKLVersion(ctypes.Structure):
    _fields_ = [("major", ctypes.c_int), ("minor", ctypes.c_int), ("update", ctypes.c_int), ("patch", ctypes.c_int),
                ("product_status", ctypes.c_char_p), ("build", ctypes.c_char_p), ("processor", ctypes.c_char_p),
                ("platform", ctypes.c_char_p)]


def mkl_identity(library):
    """MKL's version and the processor family it says it optimises for."""
    version = MKLVersion()
    library.MKL_Get_Version(ctypes.byref(version))
    return {"version": f"{version.major}.{version.minor}.{version.update}",
            "processor": (version.processor or b"").decode(), "platform": (version.platform or b"").decode()}


def mkl_probe(shape, threads, cap):
    """Run in a child process (MKL reads MKL_ENABLE_INSTRUCTIONS when it loads): GFLOP/s
    of one sgemm shape, optionally with the instruction set capped."""
    environment = dict(os.environ)
    environment.pop("MKL_VERBOSE", None)
    if cap:
        environment["MKL_ENABLE_INSTRUCTIONS"] = cap
    result = subprocess.run([sys.executable, __file__, "--mkl-probe", shape, "--threads", str(threads)],
                            capture_output=True, text=True, env=environment)
    try:
        return json.loads(result.stdout.strip().splitlines()[-1])["gflops"]
    except (IndexError, ValueError, KeyError):
        return None


def mkl_kernel_line(path, threads):
    """What MKL_VERBOSE prints for the first sgemm (version, threads, time)."""
    probe = (
        "import ctypes;"
        f"lib=ctypes.CDLL({path!r});lib.MKL_Set_Num_Threads(ctypes.c_int({threads}));"
        "import numpy as np;a=np.ones((64,64),np.float32);c=np.zeros((64,64),np.float32);P=ctypes.POINTER(ctypes.c_float);"
        "lib.cblas_sgemm(101,111,111,64,64,64,ctypes.c_float(1),a.ctypes.data_as(P),64,a.ctypes.data_as(P),64,ctypes.c_float(0),c.ctypes.data_as(P),64)"
    )
    environment = dict(os.environ, MKL_VERBOSE="1")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=environment)
    lines = [line.strip() for line in (result.stdout + result.stderr).splitlines() if "MKL_VERBOSE" in line]
    return " | ".join(lines[:2]) if lines else "MKL_VERBOSE printed nothing"


def blas_comparison(sift, shapes, threads):
    from threadpoolctl import threadpool_info, threadpool_limits
    rows, environment = [], {}
    ours = json.loads(sift("kernels", "bench", "--formats", "dense", "--shapes", ",".join(shapes),
                           "--threads", str(threads), "--json").stdout)
    ours_by_shape = {f"{r['M']}x{r['K']}x{r['N']}": r for r in ours["results"] if r["format"] == "dense"}
    environment["ours"] = {"isa": ours["machine"]["isa"], "threads": ours["machine"]["threads"],
                           "peak_gflops": ours["peak_gflops"]}
    environment["numpy_blas"] = threadpool_info()
    library, mkl_path = find_mkl()
    if library is not None:
        # On a non-Intel CPU, MKL names no code path ("Intel(R) Architecture processors"):
        # time the first shape again with MKL capped at AVX2. Equal speeds mean the
        # default run did not use AVX-512 either.
        environment["mkl"] = {"library": mkl_path, **mkl_identity(library), "verbose": mkl_kernel_line(mkl_path, threads),
                              "first_shape": shapes[0] if shapes else None,
                              "gflops_default": mkl_probe(shapes[0], threads, None) if shapes else None,
                              "gflops_capped_at_avx2": mkl_probe(shapes[0], threads, "AVX2") if shapes else None}
    else:
        environment["mkl"] = "not installed (pip install mkl)"
    for shape in shapes:
        m, k, n = (int(v) for v in shape.split("x"))
        flops = 2.0 * m * k * n
        row = {"shape": shape, "M": m, "K": k, "N": n, "threads": threads,
               "ours_gflops": ours_by_shape[shape]["gflops"]}
        a = np.random.default_rng(1).standard_normal((m, k), dtype=np.float32)
        b = np.random.default_rng(2).standard_normal((k, n), dtype=np.float32)
        c = np.empty((m, n), np.float32)
        with threadpool_limits(limits=threads, user_api="blas"):
            row["numpy_gflops"] = flops / median_seconds(lambda: np.matmul(a, b, out=c)) / 1e9
        row["mkl_gflops"] = flops / median_seconds(mkl_sgemm(library, m, k, n, threads)) / 1e9 if library is not None else None
        rows.append(row)
    return rows, environment


# ---------------------------------------------------------------------------------------
# Output

def markdown_table(header, rows):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) if rows else len(str(h)) for i, h in enumerate(header)]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"
    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"] + [line(r) for r in rows]) + "\n"


def fmt(value, digits=1):
    return "–" if value is None else f"{value:.{digits}f}"


def write_folder(out, files):
    """Writes `files` (name → text) into a staging folder beside `out`, then renames it
    into place: the folder is complete or absent."""
    parent = os.path.dirname(os.path.abspath(out)) or "."
    os.makedirs(parent, exist_ok=True)
    if os.path.lexists(out):
        raise SystemExit(f"error: {out} exists; choose another --out")
    staging = tempfile.mkdtemp(prefix=f".{os.path.basename(out)}.partial-", dir=parent)
    try:
        for name, text in files.items():
            with open(os.path.join(staging, name), "w", encoding="utf-8") as handle:
                handle.write(text)
        os.rename(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def main():
    if "--mkl-probe" in sys.argv:
        # Child mode for mkl_probe: one shape, one line of JSON.
        shape = sys.argv[sys.argv.index("--mkl-probe") + 1]
        threads = int(sys.argv[sys.argv.index("--threads") + 1])
        library, _ = find_mkl()
        m, k, n = (int(v) for v in shape.split("x"))
        print(json.dumps({"gflops": 2.0 * m * k * n / median_seconds(mkl_sgemm(library, m, k, n, threads)) / 1e9}))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sift", default=".build/release/sift")
    parser.add_argument("--out", default=None)
    parser.add_argument("--models", default="mlp,resnet18-cifar")
    parser.add_argument("--sparsities", default="0.5,0.75,0.9", help="Sparse Wide sparsities")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--seconds", type=float, default=5.0, help="timed seconds per engine and network")
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--blas-shapes", default="1024x1024x256,4096x4096x256,3072x768x512,64x576x3136")
    parser.add_argument("--skip-blas", action="store_true")
    arguments = parser.parse_args()
    if arguments.batch < 1 or arguments.threads < 1 or arguments.seconds <= 0:
        raise SystemExit("error: --batch, --threads and --seconds must be positive")
    sparsities = [float(s) for s in arguments.sparsities.split(",") if s]
    if any(not 0 < s < 1 for s in sparsities):
        raise SystemExit("error: sparsities must be in (0, 1)")
    sift = Sift(arguments.sift)
    os.environ["OMP_NUM_THREADS"] = str(arguments.threads)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = arguments.out or os.path.join("reports", f"compare-{stamp}")

    load_start = os.getloadavg()[0]
    results, notes = [], []
    rng = np.random.default_rng(0)
    for model in [m for m in arguments.models.split(",") if m]:
        networks = [{"model": model, "transform": "dense", "sparsity": 0.0}]
        networks += [{"model": model, "transform": "wide", "sparsity": s} for s in sparsities]
        for network in networks:
            label = f"{model} {network['transform']}" + (f" s={network['sparsity']}" if network["sparsity"] else "")
            print(f"== {label}", file=sys.stderr)
            with tempfile.TemporaryDirectory(prefix="sift-compare-") as folder:
                try:
                    onnx_path, weights, origin = make_onnx(sift, network, folder, arguments.batch)
                except Unavailable as reason:
                    notes.append(f"{label}: skipped: {reason}")
                    continue
                import onnx
                input_shape = [d.dim_value or arguments.batch for d in onnx.load(onnx_path, load_external_data=False).graph.input[0].type.tensor_type.shape.dim]
                input_shape[0] = arguments.batch
                x = rng.standard_normal(input_shape, dtype=np.float32)
                outputs = {}
                engines = [
                    ("ours", lambda: run_ours(sift, network, onnx_path, weights, x, folder, arguments.threads, arguments.seconds, arguments.batch)),
                    ("deepsparse", lambda: run_deepsparse(onnx_path, x, arguments.threads, arguments.seconds, arguments.warmup, arguments.batch)),
                    ("onnxruntime", lambda: run_onnxruntime(onnx_path, x, arguments.threads, arguments.seconds, arguments.warmup, arguments.batch)),
                ]
                for engine, run in engines:
                    row = {"engine": engine, **network, "batch": arguments.batch, "threads": arguments.threads, "onnx": origin}
                    try:
                        summary, output, how = run()
                        row.update(summary)
                        row["how"] = how
                        outputs[engine] = output
                        print(f"   {engine}: {summary['items_per_sec']:.1f} items/s, median {summary['latency_ms_median']:.2f} ms", file=sys.stderr)
                    except Unavailable as reason:
                        row["how"] = f"unavailable: {reason}"
                        print(f"   {engine}: unavailable: {reason}", file=sys.stderr)
                    results.append(row)
                reference = outputs.get("onnxruntime")
                for row in results[-len(engines):]:
                    output = outputs.get(row["engine"])
                    if reference is not None and output is not None:
                        scale = max(float(np.abs(reference).max()), 1e-30)
                        row["max_abs_diff_vs_ort"] = float(np.abs(output.reshape(reference.shape) - reference).max())
                        row["max_rel_diff_vs_ort"] = row["max_abs_diff_vs_ort"] / scale

    blas_rows, environment = ([], {}) if arguments.skip_blas else blas_comparison(
        sift, [s for s in arguments.blas_shapes.split(",") if s], arguments.threads)
    environment.update({
        "python": platform.python_version(), "numpy": np.__version__,
        "cpu": next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), platform.processor()),
        "threads": arguments.threads, "batch": arguments.batch, "seconds_per_engine": arguments.seconds,
        "load_average_start": load_start, "load_average_end": os.getloadavg()[0],
        "sift_commands": sorted(sift.commands), "sift_run_takes_onnx": sift.run_takes_onnx, "notes": notes,
    })
    for module in ["deepsparse", "onnxruntime", "onnx"]:
        try:
            environment[module] = __import__(module).__version__
        except ImportError:
            environment[module] = None

    # Tables.
    columns = ["engine", "model", "transform", "sparsity", "batch", "threads", "items_per_sec", "latency_ms_mean",
               "latency_ms_median", "latency_ms_p90", "iterations", "max_abs_diff_vs_ort", "max_rel_diff_vs_ort", "how", "onnx"]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(results)
    by_key = {}
    for row in results:
        by_key.setdefault((row["model"], row["transform"], row["sparsity"]), {})[row["engine"]] = row
    table = []
    for (model, transform, sparsity), engines in by_key.items():
        rate = {e: engines.get(e, {}).get("items_per_sec") for e in ["ours", "deepsparse", "onnxruntime"]}
        ratio = rate["ours"] / rate["deepsparse"] if rate["ours"] and rate["deepsparse"] else None
        agreement = max((engines[e].get("max_rel_diff_vs_ort") or 0) for e in engines if e != "onnxruntime") if engines else None
        table.append([model, transform, sparsity or "", fmt(rate["ours"]), fmt(rate["deepsparse"]), fmt(rate["onnxruntime"]),
                      fmt(ratio, 2) + ("×" if ratio else ""),
                      fmt(engines.get("ours", {}).get("latency_ms_median"), 2), fmt(engines.get("deepsparse", {}).get("latency_ms_median"), 2),
                      fmt(engines.get("onnxruntime", {}).get("latency_ms_median"), 2), f"{agreement:.1e}" if agreement else "–"])
    machine = f"{environment['cpu']}, {arguments.threads} threads, batch {arguments.batch}, load average {load_start:.1f} → {environment['load_average_end']:.1f}"
    compare_md = "# Our runtime vs DeepSparse vs ONNX Runtime (items/s, higher is better)\n\n" + machine + "\n\n" + markdown_table(
        ["model", "transform", "s", "ours", "DeepSparse", "ORT", "ours / DeepSparse", "ours ms", "DeepSparse ms", "ORT ms", "max rel. diff vs ORT"], table)
    compare_md += "\n" + "\n".join(f"- {note}" for note in notes) + "\n" if notes else ""
    for row in results:
        if row.get("how", "").startswith("unavailable"):
            compare_md += f"- {row['engine']} on {row['model']} {row['transform']} {row['sparsity']}: {row['how']}\n"

    blas_buffer = io.StringIO()
    blas_writer = csv.DictWriter(blas_buffer, fieldnames=["shape", "M", "K", "N", "threads", "ours_gflops", "numpy_gflops", "mkl_gflops"],
                                 lineterminator="\n")
    blas_writer.writeheader()
    blas_writer.writerows(blas_rows)
    numpy_blas = "; ".join(f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')})" for i in environment.get("numpy_blas", []))
    blas_md = "" if not blas_rows else "# Dense fp32 GEMM: ours vs this environment's BLAS (GFLOP/s, same threads)\n\n" + machine + "\n\n"
    mkl = environment.get("mkl")
    if isinstance(mkl, dict):
        mkl_text = (f"MKL {mkl['version']} ({mkl['processor']}); on {mkl['first_shape']}: {fmt(mkl['gflops_default'])} GFLOP/s by default, "
                    f"{fmt(mkl['gflops_capped_at_avx2'])} with MKL_ENABLE_INSTRUCTIONS=AVX2")
    else:
        mkl_text = f"MKL: {mkl}"
    if blas_rows:
        blas_md += f"numpy's BLAS (threadpoolctl): {numpy_blas or 'unknown'}. {mkl_text}.\n\n"
    blas_md += markdown_table(["shape (MxKxN)", "ours", "numpy BLAS", "MKL", "ours / best"], [
        [r["shape"], fmt(r["ours_gflops"]), fmt(r["numpy_gflops"]), fmt(r["mkl_gflops"]),
         fmt(r["ours_gflops"] / max(v for v in [r["numpy_gflops"], r["mkl_gflops"]] if v), 2) + "×"] for r in blas_rows]) if blas_rows else ""

    write_folder(out, {"compare.csv": buffer.getvalue(), "compare.md": compare_md, "blas.csv": blas_buffer.getvalue(),
                       "blas.md": blas_md, "environment.json": json.dumps(environment, indent=1, default=str) + "\n"})
    print(compare_md)
    if blas_md:
        print(blas_md)
    print(f"written to {out}/")


if __name__ == "__main__":
    main()
