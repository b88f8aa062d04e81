import Foundation
import Testing
@testable import SiftCore

/// The shared writer and reader: outputs whole or absent, only regular files replaced,
/// every refusal naming its cause, no partial files left behind.
@Suite("Safe files and directories")
struct SafeFileTests {
    final class Scratch {
        let path: String
        init() throws {
            path = FileManager.default.temporaryDirectory.appendingPathComponent("sift-safe-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        deinit { try? FileManager.default.removeItem(atPath: path) }
        func at(_ name: String) -> String { "\(path)/\(name)" }
        var entries: [String] { ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() }
    }

    func expectIOError(_ mentions: [String], sourceLocation: SourceLocation = #_sourceLocation,
                       _ body: () throws(SiftCoreError) -> Void) {
        do {
            try body()
            Issue.record("expected a refusal mentioning \(mentions)", sourceLocation: sourceLocation)
        } catch {
            for text in mentions {
                #expect(error.description.contains(text), "\(error.description) should mention \(text)", sourceLocation: sourceLocation)
            }
            #expect(!error.description.contains("NSCocoaErrorDomain"), sourceLocation: sourceLocation)
        }
    }

    @Test func writeCreatesAndReplacesRegularFilesLeavingNothingElse() throws {
        let scratch = try Scratch()
        try SafeFile.write("first", to: scratch.at("out.txt"))
        try SafeFile.write("second, longer", to: scratch.at("out.txt"))
        #expect(try String(decoding: SafeFile.read(scratch.at("out.txt")), as: UTF8.self) == "second, longer")
        #expect(scratch.entries == ["out.txt"])
    }

    @Test func writeRefusesLinksDirectoriesFIFOsAndDevices() throws {
        let scratch = try Scratch()
        try SafeFile.write("precious", to: scratch.at("real.txt"))
        try FileManager.default.createSymbolicLink(atPath: scratch.at("link.txt"), withDestinationPath: scratch.at("real.txt"))
        try FileManager.default.createDirectory(atPath: scratch.at("dir"), withIntermediateDirectories: false)
        #expect(mkfifo(scratch.at("fifo"), 0o644) == 0)
        expectIOError(["symbolic link", "link.txt"]) { () throws(SiftCoreError) in try SafeFile.write("x", to: scratch.at("link.txt")) }
        expectIOError(["directory"]) { () throws(SiftCoreError) in try SafeFile.write("x", to: scratch.at("dir")) }
        expectIOError(["FIFO"]) { () throws(SiftCoreError) in try SafeFile.write("x", to: scratch.at("fifo")) }
        expectIOError(["character device", "/dev/null"]) { () throws(SiftCoreError) in try SafeFile.write("x", to: "/dev/null") }
        expectIOError(["does not exist"]) { () throws(SiftCoreError) in try SafeFile.write("x", to: scratch.at("missing/out.txt")) }
        // Nothing was replaced or followed, and nothing was left behind.
        #expect(try String(decoding: SafeFile.read(scratch.at("real.txt")), as: UTF8.self) == "precious")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: scratch.at("link.txt")) == scratch.at("real.txt"))
        #expect(FileManager.default.fileExists(atPath: "/dev/null"))
        #expect(scratch.entries == ["dir", "fifo", "link.txt", "real.txt"])
    }

    @Test func readRefusesWhatIsNotARegularFileByName() throws {
        let scratch = try Scratch()
        #expect(mkfifo(scratch.at("fifo"), 0o644) == 0)
        // A FIFO is refused at once (it would otherwise block waiting for a writer).
        expectIOError(["FIFO (named pipe)", "not a regular file"]) { () throws(SiftCoreError) in _ = try SafeFile.read(scratch.at("fifo")) }
        expectIOError(["a directory"]) { () throws(SiftCoreError) in _ = try SafeFile.read(scratch.path) }
        expectIOError(["character device"]) { () throws(SiftCoreError) in _ = try SafeFile.read("/dev/null") }
        expectIOError(["No such file or directory", "nope.npy"]) { () throws(SiftCoreError) in _ = try SafeFile.read(scratch.at("nope.npy")) }
        // A link to a regular file is followed for input.
        try SafeFile.write("data", to: scratch.at("real"))
        try FileManager.default.createSymbolicLink(atPath: scratch.at("link"), withDestinationPath: scratch.at("real"))
        #expect(try SafeFile.read(scratch.at("link")) == Array("data".utf8))
    }

    @Test func directoriesAreWrittenWholeAndReplacedOnlyWhenSiftWroteThem() throws {
        let scratch = try Scratch()
        let manifest = Array(#"{"tool": "sift", "kind": "test"}"#.utf8)
        try SafeDirectory.write(["a.txt": Array("1".utf8), "b.txt": Array("2".utf8)], manifest: manifest, to: scratch.at("set"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.at("set")).sorted() == ["a.txt", "b.txt", "manifest.json"])
        // A second run replaces the whole set: no file of the first run survives.
        try SafeDirectory.write(["c.txt": Array("3".utf8)], manifest: manifest, to: scratch.at("set"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.at("set")).sorted() == ["c.txt", "manifest.json"])
        #expect(scratch.entries == ["set"])
        // Parents are created; an empty directory is taken.
        try SafeDirectory.write(["x": [1]], manifest: manifest, to: scratch.at("deep/er/set"))
        try FileManager.default.createDirectory(atPath: scratch.at("empty"), withIntermediateDirectories: false)
        try SafeDirectory.write(["x": [1]], manifest: manifest, to: scratch.at("empty"))
        // A directory sift did not write, a file and a link are refused, untouched.
        try FileManager.default.createDirectory(atPath: scratch.at("home"), withIntermediateDirectories: false)
        try SafeFile.write("mine", to: scratch.at("home/notes.txt"))
        expectIOError(["not written by sift", "home"]) { () throws(SiftCoreError) in
            try SafeDirectory.write(["x": [1]], manifest: manifest, to: scratch.at("home"))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.at("home")) == ["notes.txt"])
        try SafeFile.write("file", to: scratch.at("plain"))
        expectIOError(["a regular file", "a directory is expected"]) { () throws(SiftCoreError) in
            try SafeDirectory.write(["x": [1]], manifest: manifest, to: scratch.at("plain"))
        }
        try FileManager.default.createSymbolicLink(atPath: scratch.at("linked"), withDestinationPath: scratch.at("set"))
        expectIOError(["symbolic link"]) { () throws(SiftCoreError) in
            try SafeDirectory.write(["x": [1]], manifest: manifest, to: scratch.at("linked"))
        }
        // Bad file names are refused before anything is created.
        expectIOError(["../x"]) { () throws(SiftCoreError) in
            try SafeDirectory.write(["../x": [1]], manifest: manifest, to: scratch.at("new"))
        }
        #expect(!scratch.entries.contains("new") && !scratch.entries.contains { $0.contains("sift-partial") || $0.contains("sift-replaced") })
    }

    @Test func partialNamesSayWhatTheyAre() {
        let name = PartialOutputs.temporaryName(for: "/tmp/w/y.npy")
        #expect(name.hasPrefix("/tmp/w/y.npy.") && name.hasSuffix(".sift-partial") && !name.hasSuffix(".npy"))
        #expect(name != PartialOutputs.temporaryName(for: "/tmp/w/y.npy"))
    }

    @Test func checksumsAreStable() {
        #expect(Checksum.fnv1a64([]) == "fnv1a64:cbf29ce484222325")
        #expect(Checksum.fnv1a64(Array("a".utf8)) == "fnv1a64:af63dc4c8601ec8c")
    }
}
