import Foundation
import Testing
import SiftCore

/// Files and input that never surprise, end to end: weights checked against what
/// `reference` names, multi-file outputs all or nothing, outputs that are not regular
/// files refused, inputs that are not regular files named, negative numbers read as
/// numbers, no silent infinities.
@Suite("sift: files and input that never surprise")
struct FileSafetyCommandTests {
    func expectRefusal(_ arguments: [String], mentions: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let outcome = try SiftProcess.run(arguments)
        let context = "\(arguments.joined(separator: " ")): status \(outcome.status), stderr \(outcome.standardError)"
        #expect(outcome.status != 0 && ![132, 133, 134].contains(outcome.status), "\(context)", sourceLocation: sourceLocation)
        #expect(outcome.standardError.lowercased().contains("error:"), "\(context)", sourceLocation: sourceLocation)
        for text in mentions {
            #expect(outcome.standardError.contains(text), "\(context): should mention \(text)", sourceLocation: sourceLocation)
        }
        for bad in ["NSCocoaErrorDomain", "Missing value", "Fatal error"] {
            #expect(!outcome.standardError.contains(bad), "\(context)", sourceLocation: sourceLocation)
        }
    }

    static let mlp = ["--model", "mlp", "--mlp-widths", "8,16,4"]

    func makeWeights(_ folder: ScratchFolder, _ name: String, _ extra: [String]) throws {
        let outcome = try SiftProcess.run(["weights"] + Self.mlp + extra + ["--out", folder.path(name)])
        #expect(outcome.status == 0, "\(outcome.standardError)")
    }

    func reference(_ folder: ScratchFolder, weights: String, _ extra: [String], output: String = "y.npy") -> [String] {
        ["reference"] + Self.mlp + extra + ["--weights", folder.path(weights), "--input", folder.path("x.npy"), "--output", folder.path(output)]
    }

    func writeInput(_ folder: ScratchFolder, value: Float = 0.5) throws {
        try NPY.write(try Tensor(shape: [2, 8], values: [Float](repeating: value, count: 16)), to: folder.path("x.npy"))
    }

    /// The issue's case: weights made at s = 0.5 ran under --sparsity 0.9 with exit 0.
    @Test func referenceChecksTheWeightsAgainstWhatTheCommandNames() throws {
        let folder = try ScratchFolder()
        try writeInput(folder)
        let made = ["--transform", "dense", "--sparsity", "0.5"]
        try makeWeights(folder, "w", made)
        #expect(try SiftProcess.run(reference(folder, weights: "w", made)).status == 0)
        try FileManager.default.removeItem(atPath: folder.path("y.npy"))
        try expectRefusal(reference(folder, weights: "w", ["--transform", "dense", "--sparsity", "0.9"]),
                          mentions: ["sparsity: 0.5 (weights) vs 0.9 (this command)"])
        try expectRefusal(reference(folder, weights: "w", ["--transform", "parallel", "--sparsity", "0.5"]),
                          mentions: ["transform: dense (weights) vs parallel (this command)"])
        try expectRefusal(reference(folder, weights: "w", ["--transform", "dense", "--sparsity", "0.5", "--pattern", "2:4"]),
                          mentions: ["pattern: unstructured (weights) vs 2:4"])
        try expectRefusal(["reference", "--model", "mlp", "--mlp-widths", "8,16,16,4", "--transform", "dense", "--sparsity", "0.5",
                           "--weights", folder.path("w"), "--input", folder.path("x.npy"), "--output", folder.path("y.npy")],
                          mentions: ["mlp widths"])
        // Without a manifest, or given a file: refused by name.
        try FileManager.default.removeItem(atPath: folder.path("w/manifest.json"))
        try expectRefusal(reference(folder, weights: "w", made), mentions: ["no manifest.json"])
        try expectRefusal(reference(folder, weights: "x.npy", made), mentions: ["a regular file", "sift weights"])
        #expect(!FileManager.default.fileExists(atPath: folder.path("y.npy")))
    }

    /// A directory that mixes two runs (same configuration, two seeds) is refused.
    @Test func mixedRunsAreRefused() throws {
        let folder = try ScratchFolder()
        try writeInput(folder)
        let made = ["--transform", "dense", "--sparsity", "0.5"]
        try makeWeights(folder, "one", made + ["--seed", "1"])
        try makeWeights(folder, "two", made + ["--seed", "2"])
        try FileManager.default.removeItem(atPath: folder.path("one/fc1.mask.npy"))
        try FileManager.default.copyItem(atPath: folder.path("two/fc1.mask.npy"), toPath: folder.path("one/fc1.mask.npy"))
        try FileManager.default.removeItem(atPath: folder.path("one/fc1.weight.npy"))
        try FileManager.default.copyItem(atPath: folder.path("two/fc1.weight.npy"), toPath: folder.path("one/fc1.weight.npy"))
        try expectRefusal(reference(folder, weights: "one", made), mentions: ["checksum", "mixes the output of different runs"])
    }

    /// `weights` and `traces` replace an earlier output whole, refuse a directory they did
    /// not write, and leave no partial files.
    @Test func multiFileOutputsAreAllOrNothing() throws {
        let folder = try ScratchFolder()
        try makeWeights(folder, "w", ["--transform", "parallel", "--sparsity", "0.5"])
        #expect(FileManager.default.fileExists(atPath: folder.path("w/fc1.branch0.mask.npy")))
        try makeWeights(folder, "w", ["--transform", "dense", "--sparsity", "0.5"])
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path("w"))
        #expect(!files.contains { $0.contains("branch") } && files.contains("manifest.json"))
        try FileManager.default.createDirectory(atPath: folder.path("mine"), withIntermediateDirectories: false)
        try Data("keep".utf8).write(to: URL(fileURLWithPath: folder.path("mine/notes.txt")))
        try expectRefusal(["weights"] + Self.mlp + ["--transform", "dense", "--out", folder.path("mine")], mentions: ["not written by sift"])
        try expectRefusal(["traces", "--out", folder.path("mine")], mentions: ["not written by sift"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path("mine")) == ["notes.txt"])
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.url.path).filter { $0.contains(".sift-") }
        #expect(leftovers.isEmpty)
    }

    /// A run interrupted while it writes leaves the previous output or none, and no
    /// partial files (SIGTERM removes them). The signal is sent once the temporary
    /// directory exists, so the write phase itself is interrupted.
    @Test func anInterruptedRunLeavesNoPartialFiles() throws {
        let folder = try ScratchFolder()
        let process = Process()
        process.executableURL = SiftProcess.executable
        // 300 small layers: ~900 files, each flushed to disk, so the write phase is long.
        let widths = [String](repeating: "64", count: 300).joined(separator: ",")
        process.arguments = ["weights", "--model", "mlp", "--mlp-widths", widths, "--transform", "dense", "--sparsity", "0.5",
                             "--out", folder.path("w")]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        var sawPartial = false
        let deadline = Date().addingTimeInterval(120)
        while process.isRunning && Date() < deadline {
            if try FileManager.default.contentsOfDirectory(atPath: folder.url.path).contains(where: { $0.hasSuffix(".sift-partial") }) {
                sawPartial = true
                process.terminate()
                break
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        #expect(sawPartial, "the run ended before it started writing; the interruption was not exercised")
        if sawPartial { #expect(process.terminationStatus == 143) }
        let entries = try FileManager.default.contentsOfDirectory(atPath: folder.url.path)
        #expect(!entries.contains { $0.contains(".sift-partial") || $0.contains(".sift-replaced") }, "\(entries)")
        #expect(!entries.contains("w"), "an interrupted first run must leave no output")
    }

    @Test func outputsThatAreNotRegularFilesAreRefusedBeforeRunning() throws {
        let folder = try ScratchFolder()
        try writeInput(folder)
        let made = ["--transform", "dense", "--sparsity", "0.5"]
        try makeWeights(folder, "w", made)
        for target in ["/dev/null", folder.url.path] {
            try expectRefusal(["reference"] + Self.mlp + made + ["--weights", folder.path("w"), "--input", folder.path("x.npy"),
                                                                "--output", target], mentions: ["refusing to write", target])
        }
        #expect(mkfifo(folder.path("fifo"), 0o644) == 0)
        try NPY.write(try Tensor(shape: [8], values: [Float](repeating: 1, count: 8)), to: folder.path("v.npy"))
        try expectRefusal(["kernels", "multiply", "--weights", folder.path("x.npy"), "--input", folder.path("v.npy"),
                           "--format", "dense", "--out", folder.path("fifo")], mentions: ["FIFO"])
        try FileManager.default.createSymbolicLink(atPath: folder.path("link.npy"), withDestinationPath: folder.path("x.npy"))
        try expectRefusal(reference(folder, weights: "w", made, output: "link.npy"), mentions: ["symbolic link"])
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: folder.path("link.npy")) == folder.path("x.npy"))
    }

    @Test func inputsThatAreNotRegularFilesAreNamed() throws {
        let folder = try ScratchFolder()
        let made = ["--transform", "dense", "--sparsity", "0.5"]
        try makeWeights(folder, "w", made)
        #expect(mkfifo(folder.path("fifo.npy"), 0o644) == 0)
        for (input, mentions) in [(folder.path("w"), "a directory"), (folder.path("fifo.npy"), "FIFO"), ("/dev/null", "character device"),
                                  (folder.path("none.npy"), "No such file or directory")] {
            try expectRefusal(["reference"] + Self.mlp + made + ["--weights", folder.path("w"), "--input", input,
                                                                "--output", folder.path("y.npy")], mentions: [input, mentions])
        }
    }

    @Test func negativeNumbersAreNumbers() throws {
        let folder = try ScratchFolder()
        try expectRefusal(["weights"] + Self.mlp + ["--transform", "dense", "--seed", "-1", "--out", folder.path("w")],
                          mentions: ["--seed must be an integer from 0"])
        try expectRefusal(["transform", "--model", "gpt3-small", "--sequence", "-5", "--transform", "dense"], mentions: ["sequence length", "-5"])
        try expectRefusal(["models", "--sequence", "-1"], mentions: ["-1"])
        try expectRefusal(["transform", "--model", "mlp", "--transform", "dense", "--rigl-interval", "-3"], mentions: ["--rigl-interval", "-3"])
        try expectRefusal(["kernels", "bench", "--threads", "-1", "--shapes", "8x8x8"], mentions: ["thread count -1"])
        // -0 is 0, never printed as "-0".
        let zero = try SiftProcess.run(["transform", "--model", "mlp", "--transform", "wide", "--sparsity", "-0", "--json"])
        #expect(zero.status == 0 && !zero.standardOutput.contains("-0"), "\(zero.standardError)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(zero.standardOutput.utf8)) as? [String: Any])
        #expect(json["requested_sparsity"] as? Double == 0)
        try expectRefusal(["transform", "--model", "mlp", "--mlp-widths", "100000000,2", "--transform", "dense"],
                          mentions: ["MLP width 100000000 is outside 1...16777216"])
    }

    /// Finite inputs that overflow float32 give an error naming the layer, not exit 0.
    @Test func noSilentInfinities() throws {
        let folder = try ScratchFolder()
        let made = ["--transform", "dense", "--sparsity", "0.5"]
        try makeWeights(folder, "w", made)
        try writeInput(folder, value: 3e38)
        try expectRefusal(reference(folder, weights: "w", made), mentions: ["non-finite result", "fc1", "float32 overflowed"])
        #expect(!FileManager.default.fileExists(atPath: folder.path("y.npy")))
        // float64 beyond float32's range is refused on reading.
        let header = Array("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 8), }\n".utf8)
        var bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(header.count), 0] + header
        bytes += (0..<16).flatMap { index in withUnsafeBytes(of: (index == 3 ? 1e300 : 0.0).bitPattern.littleEndian) { Array($0) } }
        try Data(bytes).write(to: URL(fileURLWithPath: folder.path("big.npy")))
        try expectRefusal(reference(folder, weights: "w", made).map { $0 == folder.path("x.npy") ? folder.path("big.npy") : $0 },
                          mentions: ["beyond float32's range"])
    }
}
