#!/usr/bin/env python3
"""Checks `sift export` models with the ONNX tools, and ONNX Runtime against `sift reference`.

Needs `pip install onnx onnxruntime numpy` (not part of `swift test`).

  onnx_check.py check MODEL.onnx [--input x.npy] [--output y.npy] [--engine onnxruntime|deepsparse]
      onnx.checker (full_check) on the model; with --input, runs it on ONNX Runtime
      (CPU) or DeepSparse (in a virtual environment with deepsparse==1.8.0, which needs
      onnx < 1.15) and writes the output .npy. Token-id inputs are cast to the model's
      integer type.

  onnx_check.py agreement [--sift .build/release/sift] [--work DIR]
      For resnet18-cifar and a 2-block GPT-3-Small-shaped model (sequence 64), dense and
      Sparse Wide at s = 0.9: makes seeded weights (`sift weights`), exports them
      (`sift export --weights`), checks the model, runs ONNX Runtime and `sift reference`
      on the same seeded input and prints the max absolute and relative differences.
      It also re-imports the exported file (`sift import --input`) and checks that the
      imported network gives exactly the reference's output.
      Exits non-zero if a case exceeds the tolerance.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np

# ONNX Runtime computes in float32 with its own summation order; `sift reference`
# accumulates in double. A difference up to this fraction of the output's largest
# magnitude is float32 rounding, not a different network.
RELATIVE_TOLERANCE = 1e-4

CASES = [
    # name, model arguments, transform arguments, batch
    ("resnet18-cifar dense", ["--model", "resnet18-cifar"], ["--transform", "dense"], 2),
    ("resnet18-cifar wide s=0.9", ["--model", "resnet18-cifar"], ["--transform", "wide", "--sparsity", "0.9"], 2),
    ("gpt3-small 2 blocks T=64 dense", ["--model", "gpt3-small", "--layers", "2", "--sequence", "64"], ["--transform", "dense"], 2),
    ("gpt3-small 2 blocks T=64 wide s=0.9", ["--model", "gpt3-small", "--layers", "2", "--sequence", "64"],
     ["--transform", "wide", "--sparsity", "0.9"], 2),
]


def check_model(path):
    import onnx
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    return model


def run_onnxruntime(path, x):
    import onnxruntime as ort
    options = ort.SessionOptions()
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    model_input = session.get_inputs()[0]
    if "int64" in model_input.type:
        x = x.astype(np.int64)
    elif "int32" in model_input.type:
        x = x.astype(np.int32)
    else:
        x = x.astype(np.float32)
    return session.run(None, {model_input.name: x})[0]


def run_deepsparse(path, x):
    import deepsparse
    import onnx
    model = onnx.load(path)
    if model.graph.input[0].type.tensor_type.elem_type == 7:  # int64 token ids
        x = x.astype(np.int64)
    engine = deepsparse.compile_model(path, batch_size=x.shape[0])
    print(f"DeepSparse: fraction of supported operators {engine.fraction_of_supported_ops}")
    return engine.run([x.astype(np.int64) if x.dtype == np.int64 else x.astype(np.float32)])[0]


def differences(ours, theirs):
    ours = ours.astype(np.float64)
    theirs = theirs.astype(np.float64)
    absolute = float(np.max(np.abs(ours - theirs)))
    scale = float(np.max(np.abs(ours)))
    return absolute, absolute / scale if scale > 0 else absolute, scale


def command_check(arguments):
    check_model(arguments.model)
    print(f"{arguments.model}: onnx.checker (full_check) passed")
    if arguments.input:
        run = run_deepsparse if arguments.engine == "deepsparse" else run_onnxruntime
        y = run(arguments.model, np.load(arguments.input))
        if arguments.output:
            np.save(arguments.output, y.astype(np.float32))
            print(f"wrote {arguments.output}, shape {list(y.shape)}")
    return 0


def sift(binary, *arguments):
    result = subprocess.run([binary, *arguments], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"sift {' '.join(arguments)} failed:\n{result.stderr}")
    return result.stdout


def command_agreement(arguments):
    work = arguments.work or tempfile.mkdtemp(prefix="sift-onnx-check-")
    os.makedirs(work, exist_ok=True)
    rng = np.random.default_rng(7)
    failures = 0
    print(f"{'case':<40} {'max |ORT - ref|':>16} {'max |ref|':>10} {'relative':>10} {'max |import - ref|':>19}")
    for index, (name, model, transform, batch) in enumerate(CASES):
        folder = os.path.join(work, f"case{index}")
        weights = os.path.join(folder, "weights")
        onnx_path = os.path.join(folder, "model.onnx")
        os.makedirs(folder, exist_ok=True)
        sift(arguments.sift, "weights", *model, *transform, "--seed", "3", "--out", weights)
        sift(arguments.sift, "export", *model, *transform, "--weights", weights, "--onnx", onnx_path)
        onnx_model = check_model(onnx_path)
        dims = [d.dim_value for d in onnx_model.graph.input[0].type.tensor_type.shape.dim[1:]]
        if onnx_model.graph.input[0].type.tensor_type.elem_type == 7:  # int64 token ids
            vocabulary = next(t.dims[0] for t in onnx_model.graph.initializer if t.name == "wte.weight")
            x = rng.integers(0, vocabulary, size=[batch, *dims]).astype(np.float32)
        else:
            x = rng.uniform(-1, 1, size=[batch, *dims]).astype(np.float32)
        x_path = os.path.join(folder, "x.npy")
        reference_path = os.path.join(folder, "reference.npy")
        np.save(x_path, x)
        sift(arguments.sift, "reference", *model, *transform, "--weights", weights, "--input", x_path, "--output", reference_path)
        theirs = run_onnxruntime(onnx_path, x)
        np.save(os.path.join(folder, "onnxruntime.npy"), theirs)
        imported_path = os.path.join(folder, "imported.npy")
        sift(arguments.sift, "import", "--onnx", onnx_path, "--input", x_path, "--output", imported_path)
        ours = np.load(reference_path)
        reimported = np.load(imported_path)
        if ours.shape != theirs.shape:
            print(f"{name:<40} shapes differ: reference {ours.shape}, ONNX Runtime {theirs.shape}")
            failures += 1
            continue
        absolute, relative, scale = differences(ours, theirs)
        round_trip = float(np.max(np.abs(ours.astype(np.float64) - reimported))) if ours.shape == reimported.shape else float("inf")
        verdict = "ok" if relative <= RELATIVE_TOLERANCE and round_trip == 0 else "FAIL"
        failures += verdict != "ok"
        print(f"{name:<40} {absolute:>16.3e} {scale:>10.3e} {relative:>10.3e} {round_trip:>19.3e}  {verdict}", flush=True)
    print(f"(files in {work}; relative = max |ORT - ref| / max |ref|, tolerance {RELATIVE_TOLERANCE})")
    return 1 if failures else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="onnx.checker, then optionally run on ONNX Runtime")
    check.add_argument("model")
    check.add_argument("--input")
    check.add_argument("--output")
    check.add_argument("--engine", choices=["onnxruntime", "deepsparse"], default="onnxruntime")
    agreement = commands.add_parser("agreement", help="ONNX Runtime against sift reference on the acceptance cases")
    agreement.add_argument("--sift", default=".build/release/sift")
    agreement.add_argument("--work")
    arguments = parser.parse_args()
    return command_check(arguments) if arguments.command == "check" else command_agreement(arguments)


if __name__ == "__main__":
    sys.exit(main())
