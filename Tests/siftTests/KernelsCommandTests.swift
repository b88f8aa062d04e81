import Foundation
import Testing
import SparseKernels

@Suite("sift kernels", .serialized)
struct KernelsCommandTests {
    /// Writes W (with a 2:4 and 4x4-compatible pattern), X, bias, residual into a folder.
    func writeInputs(_ folder: ScratchFolder) throws -> (w: Matrix, x: Matrix) {
        let w = try RandomWeights.matrix(rows: 8, columns: 16, pattern: .nOfM(n: 2, m: 4), sparsity: 0.5, seed: 1)
        let x = RandomWeights.dense(rows: 16, columns: 5, seed: 2)
        try NPY.write(w.tensor, to: folder.path("w.npy"))
        try NPY.write(x.tensor, to: folder.path("x.npy"))
        try NPY.write(Tensor(shape: [8], values: (0..<8).map { Float($0) / 10 }), to: folder.path("bias.npy"))
        return (w, x)
    }

    @Test("multiply writes the right product in every format and ISA")
    func multiply() throws {
        let folder = try ScratchFolder()
        let (w, x) = try writeInputs(folder)
        let bias = (0..<8).map { Float($0) / 10 }
        let (expected, magnitude) = try referenceMultiply(w, x, epilogue: Epilogue(bias: bias, relu: true))
        let formats: [[String]] = [["--format", "dense"], ["--format", "csr"], ["--format", "nm", "--nm", "2:4"], ["--format", "bsr", "--block", "2x2"],
                                      ["--format", "bsr", "--block", "32x32"], ["--format", "nm", "--nm", "4:5"]]
        for format in formats {
            for isa in Machine.supportedISAs {
                let out = folder.path("y-\(format.joined())-\(isa).npy".replacingOccurrences(of: ":", with: "-"))
                let outcome = try SiftProcess.run(["kernels", "multiply", "--weights", folder.path("w.npy"), "--input", folder.path("x.npy"),
                                                   "--bias", folder.path("bias.npy"), "--relu", "--isa", isa.rawValue, "--threads", "2",
                                                   "--out", out] + format)
                #expect(outcome.status == 0, "\(format) \(isa): \(outcome.standardError)")
                let y = try Matrix(NPY.read(contentsOf: out))
                #expect(y.rows == 8 && y.columns == 5)
                for i in y.values.indices {
                    #expect(abs(y.values[i] - expected.values[i]) <= 32 * Float.ulpOfOne * magnitude.values[i] + 1e-30)
                }
            }
        }
    }

    @Test("a 1-D input vector gives a 1-D output (the batch-1 regime)")
    func vectorInput() throws {
        let folder = try ScratchFolder()
        _ = try writeInputs(folder)
        try NPY.write(Tensor(shape: [16], values: (0..<16).map { Float($0) }), to: folder.path("v.npy"))
        let outcome = try SiftProcess.run(["kernels", "multiply", "--weights", folder.path("w.npy"), "--input", folder.path("v.npy"),
                                           "--format", "csr", "--out", folder.path("y.npy")])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        #expect(try NPY.read(contentsOf: folder.path("y.npy")).shape == [8])
    }

    /// Each bad input: non-zero exit, a message naming the problem, and no output file.
    @Test("bad input is refused and writes nothing",
          arguments: [
            ("shape", ["--input", "xbad.npy", "--format", "dense"], "shape mismatch"),
            ("N > M", ["--format", "nm", "--nm", "4:2"], "N <= M"),
            ("M > 16", ["--format", "nm", "--nm", "2:32"], "between 1 and 16"),
            ("not 2:4", ["--format", "nm", "--nm", "1:4"], "row 0, group"),
            ("block unsupported", ["--format", "bsr", "--block", "3x3"], "unsupported"),
            ("nm without pattern", ["--format", "nm"], "needs --nm"),
            ("unknown format", ["--format", "coo"], "unknown format"),
            ("unknown isa", ["--format", "dense", "--isa", "neon"], "unknown ISA"),
            ("zero threads", ["--format", "dense", "--threads", "0"], "thread count"),
            ("NaN weights", ["--weights", "wnan.npy", "--format", "csr"], "non-finite"),
            ("truncated npy", ["--weights", "truncated.npy", "--format", "csr"], "truncated"),
            ("not npy", ["--weights", "garbage.npy", "--format", "csr"], "not an .npy"),
            ("missing file", ["--weights", "missing.npy", "--format", "csr"], "cannot read"),
          ])
    func badInput(name: String, overrides: [String], message: String) throws {
        let folder = try ScratchFolder()
        let (w, _) = try writeInputs(folder)
        try NPY.write(RandomWeights.dense(rows: 15, columns: 5, seed: 3).tensor, to: folder.path("xbad.npy"))
        var nan = w
        nan[1, 1] = .nan
        try NPY.write(nan.tensor, to: folder.path("wnan.npy"))
        let full = NPY.encode(w.tensor)
        try Data(full.prefix(full.count - 7)).write(to: folder.url.appendingPathComponent("truncated.npy"))
        try Data("garbage".utf8).write(to: folder.url.appendingPathComponent("garbage.npy"))

        var arguments: [String: String] = ["--weights": "w.npy", "--input": "x.npy"]
        var extra: [String] = []
        var index = 0
        while index < overrides.count {
            let key = overrides[index], value = overrides[index + 1]
            if key == "--weights" || key == "--input" { arguments[key] = value } else { extra += [key, value] }
            index += 2
        }
        let out = folder.path("y.npy")
        let outcome = try SiftProcess.run(["kernels", "multiply", "--weights", folder.path(arguments["--weights"]!),
                                           "--input", folder.path(arguments["--input"]!), "--out", out] + extra)
        #expect(outcome.status != 0, "\(name) should fail")
        #expect(outcome.standardError.contains(message), "\(name): stderr was \(outcome.standardError)")
        #expect(!FileManager.default.fileExists(atPath: out), "\(name) must not write an output file")
        #expect(!outcome.standardError.contains("Fatal error"), "\(name) trapped")
    }

    @Test("bench prints the header and JSON records with the documented fields")
    func benchJSON() throws {
        let outcome = try SiftProcess.run(["kernels", "bench", "--shapes", "64x64x16,32x64x1", "--sparsity", "0.5,0.9",
                                           "--block", "4x4", "--threads", "2", "--json"])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        let json = try JSONSerialization.jsonObject(with: Data(outcome.standardOutput.utf8)) as? [String: Any]
        #expect((json?["peak_gflops"] as? Double ?? 0) > 0)
        let results = json?["results"] as? [[String: Any]] ?? []
        // Per shape: dense, csr at 2 sparsities, nm 2:4, bsr 4x4 at 2 sparsities.
        #expect(results.count == 12)
        for record in results {
            for key in ["format", "pattern", "sparsity", "M", "K", "N", "gflops", "speedup_vs_dense"] {
                #expect(record[key] != nil, "missing \(key)")
            }
            #expect(record["verified"] as? Bool == true, "\(record)")
        }
        #expect(results.contains { $0["format"] as? String == "nm" && $0["pattern"] as? String == "2:4" })
    }

    @Test("bench refuses sparsity outside [0, 1) with a range error; -0 is 0, as everywhere in the CLI")
    func benchBadSparsity() throws {
        let zero = try SiftProcess.run(["kernels", "bench", "--shapes", "16x16x4", "--formats", "dense,csr", "--sparsity", "-0", "--json"])
        #expect(zero.status == 0, "\(zero.standardError)")
        #expect(zero.standardOutput.contains("\"sparsity\" : 0") && !zero.standardOutput.contains("\"sparsity\" : -"), "\(zero.standardOutput)")
        for bad in ["1.0", "-0.5", "nan", "abc"] {
            let outcome = try SiftProcess.run(["kernels", "bench", "--shapes", "16x16x16", "--sparsity", bad])
            #expect(outcome.status != 0, "\(bad)")
            #expect(outcome.standardError.contains("sparsity"), "\(bad): \(outcome.standardError)")
            #expect(!outcome.standardError.contains("Missing value"), "\(bad): \(outcome.standardError)")
        }
    }

    @Test("bench refuses before it runs: CSR beyond K = 65536, shapes too slow or too large, negative threads",
          arguments: [
            (["--shapes", "16x16x16,8x70000x4", "--json"], "K=70000 exceeds 65536"),
            (["--shapes", "16x16x16,16000x16000x16000"], "per multiply"),
            (["--shapes", "16x16x16,100000x100000x1"], "would exceed"),
            (["--shapes", "16x16x16", "--threads", "-1"], "thread count -1"),
            (["--shapes", "16x16x16", "--threads", "0"], "thread count 0"),
          ])
    func benchRefusesFirst(arguments: [String], message: String) throws {
        let outcome = try SiftProcess.run(["kernels", "bench"] + arguments)
        #expect(outcome.status != 0)
        #expect(outcome.standardError.contains(message), "stderr: \(outcome.standardError)")
        // Nothing was measured: no table rows, no JSON, no progress lines.
        #expect(outcome.standardOutput.isEmpty, "stdout: \(outcome.standardOutput)")
        #expect(!outcome.standardError.contains("measured"), "stderr: \(outcome.standardError)")
    }

    @Test("bench measures N:M and BSR on shapes their group and block do not divide (and --paired runs)")
    func benchRagged() throws {
        let outcome = try SiftProcess.run(["kernels", "bench", "--shapes", "36x50x20", "--sparsity", "0.5", "--paired",
                                           "--formats", "dense,nm,bsr", "--nm", "2:4", "--block", "16x16", "--threads", "2", "--json"])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        let json = try JSONSerialization.jsonObject(with: Data(outcome.standardOutput.utf8)) as? [String: Any]
        let results = json?["results"] as? [[String: Any]] ?? []
        #expect(Set(results.compactMap { $0["format"] as? String }) == ["dense", "nm", "bsr"], "\(results)")
        #expect(results.allSatisfy { $0["verified"] as? Bool == true })
    }

    @Test("tune stores a record the bench then reads and announces; a corrupt tuning file is replaced")
    func tuneThenBench() throws {
        let folder = try ScratchFolder()
        let file = folder.path("tuning.json")
        try Data("not json".utf8).write(to: URL(fileURLWithPath: file))
        // Budget 0: no measurement (tests never time), a record of the defaults.
        let tune = try SiftProcess.run(["kernels", "tune", "--tuning", file, "--budget", "0", "--threads", "2"])
        #expect(tune.status == 0, "\(tune.standardError)")
        #expect(tune.standardOutput.contains("stored in \(file)"), "\(tune.standardOutput)")
        let stored = try TuningFile.decode(Array(try Data(contentsOf: URL(fileURLWithPath: file))))
        #expect(stored.records.count == 1 && stored.records[0].key.threads == 2)
        // The bench reads it (SIFT_TUNING unset for this run) and says so.
        let bench = try SiftProcess.run(["kernels", "bench", "--shapes", "32x32x8", "--formats", "dense", "--threads", "2",
                                         "--tuning", file, "--json"], environment: ["SIFT_TUNING": ""])
        #expect(bench.status == 0, "\(bench.standardError)")
        let json = try JSONSerialization.jsonObject(with: Data(bench.standardOutput.utf8)) as? [String: Any]
        let machine = json?["machine"] as? [String: Any]
        #expect(machine?["tuned"] as? Bool == true, "\(bench.standardOutput)")
        #expect((machine?["parameters"] as? String ?? "").contains(file))
        #expect(!bench.standardError.contains("measuring this machine"), "no search when a record exists")
        // With SIFT_TUNING=defaults (the tests' default) the header says so.
        let plain = try SiftProcess.run(["kernels", "bench", "--shapes", "32x32x8", "--formats", "dense", "--threads", "2", "--tuning", file])
        #expect(plain.standardOutput.contains("parameters: default parameters (SIFT_TUNING=defaults)"), "\(plain.standardOutput)")
        let badBudget = try SiftProcess.run(["kernels", "tune", "--tuning", file, "--budget", "-1"])
        #expect(badBudget.status != 0 && badBudget.standardError.contains("budget"))
    }

    @Test("bench --compare times a vendor BLAS when one loads, and skips with a note when none does")
    func benchCompare() throws {
        let none = try SiftProcess.run(["kernels", "bench", "--shapes", "32x32x8", "--formats", "dense", "--threads", "1", "--compare"],
                                       environment: ["SIFT_BLAS": "none"])
        #expect(none.status == 0, "\(none.standardError)")
        #expect(none.standardOutput.contains("no BLAS could be loaded") && none.standardError.contains("comparison skipped"))
        let found = try SiftProcess.run(["kernels", "bench", "--shapes", "32x32x8", "--formats", "dense", "--threads", "1", "--compare", "--json"])
        #expect(found.status == 0, "\(found.standardError)")
        let json = try JSONSerialization.jsonObject(with: Data(found.standardOutput.utf8)) as? [String: Any]
        let libraries = (json?["machine"] as? [String: Any])?["blas"] as? [[String: Any]] ?? []
        let rows = (json?["results"] as? [[String: Any]] ?? []).filter { $0["format"] as? String == "blas" }
        #expect(rows.count == libraries.count, "one row per library")
        for row in rows { #expect(row["verified"] as? Bool == true, "\(row)") }
    }

    @Test("list prints every kernel of the registry, as a table and as JSON")
    func list() throws {
        let table = try SiftProcess.run(["kernels", "list"])
        #expect(table.status == 0, "\(table.standardError)")
        for kernel in KernelRegistry.all { #expect(table.standardOutput.contains(kernel.name), "\(kernel.name)") }
        let json = try SiftProcess.run(["kernels", "list", "--json", "--format", "nm"])
        #expect(json.status == 0, "\(json.standardError)")
        let records = try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [[String: Any]] ?? []
        #expect(records.count == KernelRegistry.kernels(of: .nm).count)
        for record in records {
            for key in ["name", "format", "isa", "min_n", "tile_rows", "tile_columns", "k_block", "split", "blocking", "patterns", "runs_here"] {
                #expect(record.keys.contains(key), "missing \(key)")
            }
            #expect(record["format"] as? String == "nm")
        }
        let bad = try SiftProcess.run(["kernels", "list", "--format", "coo"])
        #expect(bad.status != 0 && bad.standardError.contains("unknown format"))
    }

    @Test("multiply fuses the activation it is given, can force a kernel, and refuses an overflowing product")
    func multiplyActivationAndKernel() throws {
        let folder = try ScratchFolder()
        let (w, x) = try writeInputs(folder)
        let (expected, magnitude) = try referenceMultiply(w, x, epilogue: Epilogue(activation: .gelu))
        let kernel = try #require(KernelRegistry.kernels(of: .nm).first { $0.isScalarFallback })
        let out = folder.path("y.npy")
        let outcome = try SiftProcess.run(["kernels", "multiply", "--weights", folder.path("w.npy"), "--input", folder.path("x.npy"),
                                           "--format", "nm", "--nm", "2:4", "--activation", "gelu", "--kernel", kernel.name, "--out", out])
        #expect(outcome.status == 0, "\(outcome.standardError)")
        let y = try Matrix(NPY.read(contentsOf: out))
        for i in y.values.indices {
            #expect(abs(y.values[i] - expected.values[i]) <= 64 * Float.ulpOfOne * magnitude.values[i] + 1e-30)
        }
        let disagree = try SiftProcess.run(["kernels", "multiply", "--weights", folder.path("w.npy"), "--input", folder.path("x.npy"),
                                            "--format", "dense", "--relu", "--activation", "gelu", "--out", folder.path("z.npy")])
        #expect(disagree.status != 0 && disagree.standardError.contains("disagree"))
        let wrongKernel = try SiftProcess.run(["kernels", "multiply", "--weights", folder.path("w.npy"), "--input", folder.path("x.npy"),
                                               "--format", "dense", "--kernel", kernel.name, "--out", folder.path("z.npy")])
        #expect(wrongKernel.status != 0 && wrongKernel.standardError.contains("runs nm weights"))
        // Finite inputs whose product overflows: refused, nothing written.
        try NPY.write(Tensor(shape: [1, 2], values: [3e38, 3e38]), to: folder.path("big.npy"))
        try NPY.write(Tensor(shape: [2, 1], values: [2, 2]), to: folder.path("two.npy"))
        let overflow = try SiftProcess.run(["kernels", "multiply", "--weights", folder.path("big.npy"), "--input", folder.path("two.npy"),
                                            "--format", "dense", "--out", folder.path("o.npy")])
        #expect(overflow.status != 0 && overflow.standardError.contains("overflows"), "\(overflow.standardError)")
        #expect(!FileManager.default.fileExists(atPath: folder.path("o.npy")))
        #expect(!FileManager.default.fileExists(atPath: folder.path("z.npy")))
    }
}
