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
        .library(name: "SparseKernels", targets: ["SparseKernels"]),
        .library(name: "SparseIFT", targets: ["SparseIFT"]),
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
        .target(name: "SparseKernels", dependencies: ["CSparseKernels"]),
        .target(name: "SparseIFT", dependencies: ["SparseKernels"]),
        .target(name: "SparseRuntime", dependencies: ["SparseIFT", "SparseKernels", "CSparseKernels"]),
        .executableTarget(
            name: "sift",
            dependencies: [
                "SparseKernels",
                "SparseIFT",
                "SparseRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "SparseKernelsTests", dependencies: ["SparseKernels"]),
        .testTarget(name: "SparseIFTTests", dependencies: ["SparseIFT", "SparseKernels"]),
        .testTarget(name: "siftTests", dependencies: ["SparseKernels"]),
        .testTarget(name: "SparseRuntimeTests", dependencies: ["SparseRuntime", "SparseIFT", "SparseKernels", "CSparseKernels"]),
    ]
)
