import Foundation
import Testing
import SiftCore

/// One test per problem `scripts/abuse.py` found (it throws bad input at every command;
/// these keep the fixes). Each runs the CLI on a tiny MLP, so the suite stays quick.
@Suite("sift: regressions found by scripts/abuse.py")
struct AbuseRegressionTests {
    static let mlp = ["--model", "mlp", "--mlp-widths", "8,16,4"]

    /// A clean refusal: non-zero exit that is not a trap, an error line naming the cause.
    @discardableResult
    func expectRefusal(_ arguments: [String], mentions: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let outcome = try SiftProcess.run(arguments)
        let context = "sift \(arguments.joined(separator: " ")): status \(outcome.status), stderr \(outcome.standardError)"
        #expect(outcome.status != 0 && ![132, 133, 134, 139].contains(outcome.status), "\(context)", sourceLocation: sourceLocation)
        #expect(outcome.standardError.lowercased().contains("error:"), "\(context)", sourceLocation: sourceLocation)
        for text in mentions {
            #expect(outcome.standardError.contains(text), "\(context): should mention \(text)", sourceLocation: sourceLocation)
        }
        for vague in ["Missing value", "Fatal error", "NSCocoaErrorDomain"] {
            #expect(!outcome.standardError.contains(vague), "\(context)", sourceLocation: sourceLocation)
        }
        return outcome.standardError
    }

    /// Options whose value may start with '-' were read as "Missing value for '--seed'":
    /// the argument parser took `-1` for an option. They now reach validation, which names
    /// the value.
    @Test func negativeValuesAreReadAsValuesNotOptions() throws {
        let folder = try ScratchFolder()
        let cases: [([String], String)] = [
            (["export"] + Self.mlp + ["--onnx", "/nonexistent/m.onnx", "--seed", "-1"], "-1"),
            (["transform", "--model", "mlp", "--mlp-widths", "-8,4"], "-8"),
            (["simulate", "matmul", "--m", "-1", "--k", "8", "--n", "8", "--quiet"], "-1"),
            (["simulate", "sweep", "--m", "8", "--k", "8", "--n", "8", "--quiet", "--shard", "-1/3"], "shard index -1"),
            (["simulate", "sweep", "--m", "8", "--k", "8", "--n", "8", "--quiet", "--sparsities", "-0.5"], "-0.5"),
            (["simulate"] + Self.mlp + ["--quiet", "--batch-size", "-4"], "-4"),
            (["report", "--sweeps", "accelerator-products", "--quiet", "--out", "/nonexistent/r", "--shard", "-1/3"], "shard index -1"),
            (["report", "--sweeps", "accelerator-products", "--quiet", "--out", "/nonexistent/r", "--product-shape", "-16x16x16"], "-16"),
            (["run"] + Self.mlp + ["--explain", "--seed", "-1"], "-1"),
            (["run", "sweep"] + Self.mlp + ["--out", folder.path("s.csv"), "--sparsities", "-0.5"], "-0.5"),
            (["kernels", "bench", "--shapes", "-16x16x16"], "-16"),
        ]
        for (arguments, value) in cases {
            try expectRefusal(arguments, mentions: [value])
        }
    }

    /// `sift kernels multiply --nm -2:4` / `--block -4x4`: the same, where the pattern is a string.
    @Test func negativePatternsAreRefusedByName() throws {
        let folder = try ScratchFolder()
        try NPY.write(try Tensor(shape: [4, 8], values: (0..<32).map { Float($0 % 3) }), to: folder.path("w.npy"))
        try NPY.write(try Tensor(shape: [8, 2], values: [Float](repeating: 1, count: 16)), to: folder.path("x.npy"))
        let multiply = ["kernels", "multiply", "--weights", folder.path("w.npy"), "--input", folder.path("x.npy"), "--out", folder.path("y.npy")]
        try expectRefusal(multiply + ["--format", "nm", "--nm", "-2:4"], mentions: ["-2:4"])
        try expectRefusal(multiply + ["--format", "bsr", "--block", "-4x4"], mentions: ["-4x4"])
        #expect(!FileManager.default.fileExists(atPath: folder.path("y.npy")))
    }

    /// `sift run --input` with finite inputs that overflow float32 wrote a file of NaNs and
    /// exited 0 (`sift reference` refuses the same input).
    @Test func runRefusesAnOutputThatOverflows() throws {
        let folder = try ScratchFolder()
        try NPY.write(try Tensor(shape: [2, 8], values: [Float](repeating: 3e38, count: 16)), to: folder.path("x.npy"))
        try expectRefusal(["run"] + Self.mlp + ["--threads", "1", "--no-plan-cache", "--input", folder.path("x.npy"),
                                                "--output", folder.path("y.npy")], mentions: ["overflows float32"])
        #expect(!FileManager.default.fileExists(atPath: folder.path("y.npy")))
    }

    /// `sift reference` and `sift import` ran a batch of 0 samples and wrote an empty output
    /// (`sift run` refuses batch 0).
    @Test func anEmptyBatchIsRefused() throws {
        let folder = try ScratchFolder()
        try NPY.write(try Tensor(shape: [0, 8], values: []), to: folder.path("x.npy"))
        let made = try SiftProcess.run(["weights"] + Self.mlp + ["--out", folder.path("w")])
        #expect(made.status == 0, "\(made.standardError)")
        try expectRefusal(["reference"] + Self.mlp + ["--weights", folder.path("w"), "--input", folder.path("x.npy"),
                                                      "--output", folder.path("y.npy")], mentions: ["batch of 0"])
        let exported = try SiftProcess.run(["export"] + Self.mlp + ["--onnx", folder.path("m.onnx")])
        #expect(exported.status == 0, "\(exported.standardError)")
        try expectRefusal(["import", "--onnx", folder.path("m.onnx"), "--input", folder.path("x.npy"), "--output", folder.path("y.npy")],
                          mentions: ["batch of 0"])
        #expect(!FileManager.default.fileExists(atPath: folder.path("y.npy")))
    }
}

extension AbuseRegressionTests {
    /// Arguments that are wrong for every point or every row are refused up front instead
    /// of being accepted (exit 0): a simulator sweep whose every row is an error, an empty
    /// entry in a bench list, a profile of -1 rows.
    @Test func argumentsWrongForEveryPointAreRefusedUpFront() throws {
        let folder = try ScratchFolder()
        try expectRefusal(["simulate", "sweep"] + Self.mlp + ["--quiet", "--mode", "analytical", "--batch-size", "-1",
                                                             "--out", folder.path("s.csv")], mentions: ["--batch-size", "-1"])
        try expectRefusal(["simulate", "sweep"] + Self.mlp + ["--quiet", "--mode", "analytical", "--batch-size", "0"],
                          mentions: ["--batch-size"])
        #expect(!FileManager.default.fileExists(atPath: folder.path("s.csv")))
        try expectRefusal(["kernels", "bench", "--shapes", "1x1x1,,", "--formats", "dense"], mentions: ["--shapes", "empty"])
        try expectRefusal(["kernels", "bench", "--shapes", "8x8x8", "--formats", "csr", "--sparsity", ""], mentions: ["--sparsity"])
        try expectRefusal(["run"] + Self.mlp + ["--explain", "--profile-rows", "-1"], mentions: ["--profile-rows"])
    }
}

extension AbuseRegressionTests {
    /// `SIFT_BLAS=<a FIFO> sift kernels bench --compare` hung forever in dlopen (which opens
    /// the FIFO and waits for a writer), and SIGTERM could not end it. A library path must
    /// now name a regular file; anything else is skipped like a missing library.
    @Test func aVendorBLASPathThatIsNotAFileDoesNotHang() throws {
        let folder = try ScratchFolder()
        let fifo = folder.path("blas-fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        let process = Process()
        process.executableURL = SiftProcess.executable
        process.arguments = ["kernels", "bench", "--compare", "--formats", "dense", "--shapes", "8x8x8", "--threads", "1"]
        process.environment = ProcessInfo.processInfo.environment.merging(["SIFT_TUNING": "defaults", "SIFT_BLAS": fifo]) { _, new in new }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // A watchdog: a hang fails the test instead of the whole suite (SIGKILL: the hung
        // process does not answer SIGTERM).
        let deadline = Date().addingTimeInterval(120)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        let hung = process.isRunning
        if hung { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        #expect(!hung, "sift kernels bench --compare with SIFT_BLAS=<fifo> still ran after 120 s")
        #expect(hung || process.terminationStatus == 0)
    }
}
