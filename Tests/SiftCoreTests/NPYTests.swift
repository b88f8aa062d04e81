import Foundation
import Testing
@testable import SiftCore

@Suite("NPY files")
struct NPYTests {
    func header(_ dict: String, version: UInt8 = 1) -> [UInt8] {
        var bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, version, 0]
        let text = Array((dict + "\n").utf8)
        bytes += [UInt8(text.count & 0xFF), UInt8(text.count >> 8)]
        return bytes + text
    }

    func floats(_ values: [Float]) -> [UInt8] {
        values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
    }

    @Test("Round trip keeps shape and values bit for bit, header 64-byte aligned")
    func roundTrip() throws {
        let tensor = try Tensor(shape: [2, 3], values: [1, -2.5, 0, .pi, 1e-30, -0.0])
        let bytes = NPY.encode(tensor)
        #expect((bytes.count - 24) % 64 == 0)
        let decoded = try NPY.decode(bytes)
        #expect(decoded.shape == [2, 3])
        #expect(decoded.values.map(\.bitPattern) == tensor.values.map(\.bitPattern))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("npy-\(UUID().uuidString).npy").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try NPY.write(tensor, to: path)
        #expect(try NPY.read(contentsOf: path) == tensor)
    }

    @Test("Fortran order is reordered; float64 is converted")
    func conversions() throws {
        let fortran = header("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }") + floats([1, 4, 2, 5, 3, 6])
        #expect(try NPY.decode(fortran).values == [1, 2, 3, 4, 5, 6])
        let doubles = header("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }")
            + [0.5, -3.0].flatMap { (v: Double) in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
        #expect(try NPY.decode(doubles).values == [0.5, -3])
    }

    @Test("Malformed and truncated files are refused with a reason",
          arguments: [
            ("not npy", Array("hello world, not npy".utf8)),
            ("truncated header", Array([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, 200, 0, 0x7B])),
            ("int dtype", [UInt8]()),
            ("big endian", [UInt8]()),
            ("truncated data", [UInt8]()),
            ("trailing bytes", [UInt8]()),
            ("bad shape", [UInt8]()),
          ])
    func malformed(name: String, raw: [UInt8]) {
        var bytes = raw
        switch name {
        case "int dtype": bytes = header("{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }") + [0, 0, 0, 0]
        case "big endian": bytes = header("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }") + [0, 0, 0, 0]
        case "truncated data": bytes = header("{'descr': '<f4', 'fortran_order': False, 'shape': (4, 4), }") + floats([1, 2, 3])
        case "trailing bytes": bytes = header("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }") + floats([1, 2])
        case "bad shape": bytes = header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }") + floats([1, 2])
        default: break
        }
        #expect(throws: SiftCoreError.self, "\(name)") { try NPY.decode(bytes) }
    }

    @Test("A missing file is an I/O error naming the path")
    func missingFile() {
        do {
            _ = try NPY.read(contentsOf: "/nonexistent/w.npy")
            Issue.record("expected an error")
        } catch {
            guard case .io(let message) = error else { Issue.record("expected .io, got \(error)"); return }
            #expect(message.contains("/nonexistent/w.npy"))
        }
    }
}
