// swift-tools-version: 6.1
import PackageDescription

// The C kernels need OpenMP (-fopenmp, LLVM's libomp.so.5 from libomp-19-dev) and hwloc.
// They are compiled at -O3 even in debug builds: kernels at -O0 would make the tests crawl.
// Per-ISA code is selected per function with `#pragma clang attribute` inside each file,
// so no -march flag is needed and the library runs on any x86-64.
let package = Package(
    name: "SparseIFTToolkit",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "SiftCore", targets: ["SiftCore"]),
        .library(name: "SparseKernels", targets: ["SparseKernels"]),
        .library(name: "SparseIFT", targets: ["SparseIFT"]),
        .library(name: "SiftSweep", targets: ["SiftSweep"]),
        .library(name: "DataflowSim", targets: ["DataflowSim"]),
        .library(name: "SiftONNX", targets: ["SiftONNX"]),
        .library(name: "SparseRuntime", targets: ["SparseRuntime"]),
        .executable(name: "sift", targets: ["sift"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .target(
            name: "CSparseKernels",
            path: "kernels",
            cSettings: [
                .unsafeFlags(["-fopenmp", "-O3", "-fno-math-errno", "-Wall", "-Wno-unknown-pragmas"]),
            ],
            linkerSettings: [
                .linkedLibrary(":libomp.so.5"),
                .linkedLibrary("hwloc"),
                .linkedLibrary("m"),
            ]
        ),
        // Pure Swift, no C: tensors, .npy, the seeded generator, patterns, masks, file writing.
        .target(name: "SiftCore"),
        .target(name: "SparseKernels", dependencies: ["SiftCore", "CSparseKernels"]),
        // The model layer needs no C (no OpenMP, no hwloc): it builds and tests without them.
        .target(name: "SparseIFT", dependencies: ["SiftCore"]),
        // Shards and mergeable sweep CSVs: pure Swift on SiftCore alone, so every sweep
        // (runtime, simulator, report) can use it.
        .target(name: "SiftSweep", dependencies: ["SiftCore"]),
        // `sift report`: plots, tables, the index page, the machine description and the
        // report's sweeps, over small protocols the CLI fills with the runtime and simulator.
        .target(name: "SiftReport", dependencies: ["SiftSweep", "SparseIFT", "SparseKernels"]),
        // The CS-2-like dataflow simulator: pure Swift on top of the Sparse-IFT IR (no C).
        .target(name: "DataflowSim", dependencies: ["SiftCore", "SparseIFT", "SiftSweep"], exclude: ["README.md"]),
        // ONNX export and import, pure Swift (its own protobuf subset). Optimized even in
        // debug builds, like the kernels: moving GPT-sized weights through transposes and
        // sparsity detection at -Onone takes minutes.
        .target(name: "SiftONNX", dependencies: ["SparseIFT", "SiftCore"],
                swiftSettings: [.unsafeFlags(["-O"])]),
        // The inference runtime: compiles networks onto the kernels (C operators in kernels/ops).
        .target(name: "SparseRuntime", dependencies: ["SparseIFT", "SparseKernels", "CSparseKernels", "SiftSweep"]),
        .executableTarget(
            name: "sift",
            dependencies: [
                "SiftCore",
                "SparseKernels",
                "SparseIFT",
                "SiftSweep",
                "DataflowSim",
                "SiftReport",
                "SiftONNX",
                "SparseRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "SiftCoreTests", dependencies: ["SiftCore"]),
        .testTarget(name: "SparseKernelsTests", dependencies: ["SparseKernels"]),
        .testTarget(name: "SparseIFTTests", dependencies: ["SparseIFT"]),
        .testTarget(name: "siftTests", dependencies: ["SiftCore", "SparseKernels", "SiftONNX", "SparseIFT"]),
        .testTarget(name: "SiftSweepTests", dependencies: ["SiftSweep"]),
        .testTarget(name: "DataflowSimTests", dependencies: ["DataflowSim", "SparseIFT", "SiftCore"]),
        .testTarget(name: "SiftReportTests", dependencies: ["SiftReport", "SiftSweep", "SparseKernels"]),
        .testTarget(name: "SiftONNXTests", dependencies: ["SiftONNX", "SparseIFT", "SiftCore"]),
        .testTarget(name: "SparseRuntimeTests", dependencies: ["SparseRuntime", "SparseIFT", "SparseKernels", "CSparseKernels", "SiftONNX"]),
    ]
)
