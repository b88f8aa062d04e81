import Testing
@testable import SiftCore

/// `.npy` headers are read exactly as numpy's `np.load` reads them. The table was made by
/// running each header through numpy 2.4.6 (`numpy.lib._format_impl._read_array_header`,
/// then `np.load` for the dimension checks); `numpy` says whether numpy accepts it. Where
/// sift differs on purpose (a refusal, never a different reading), the reason is given.
@Suite("NPY headers as numpy reads them")
struct NPYHeaderTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let header: String
        let major: UInt8
        /// The shape sift reads, or nil when sift refuses the header.
        let shape: [Int]?
        let numpy: Bool
        let difference: String?

        init(_ header: String, _ major: UInt8, _ shape: [Int]?, numpy: Bool, _ difference: String? = nil) {
            self.header = header
            self.major = major
            self.shape = shape
            self.numpy = numpy
            self.difference = difference
        }

        var testDescription: String { "v\(major) \(header.debugDescription)" }

        /// The file: magic, version, header length, the header ended by a newline, and
        /// float32 data for the shape.
        var bytes: [UInt8] {
            // Format 3.0 headers are UTF-8; 1.0 and 2.0 are latin-1 (every character here < 256).
            let line = header + "\n"
            let text = major == 3 ? Array(line.utf8) : line.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) }
            var bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, major, 0]
            if major == 1 {
                bytes += [UInt8(text.count & 0xFF), UInt8(text.count >> 8)]
            } else {
                bytes += [UInt8(text.count & 0xFF), UInt8((text.count >> 8) & 0xFF), 0, 0]
            }
            let count = (shape ?? [2]).reduce(1, *)
            return bytes + text + [UInt8](repeating: 0, count: 4 * count)
        }
    }

    static let cases: [Case] = [
        Case("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 1, [2], numpy: true),
        Case("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 2, [2], numpy: true),
        Case("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 3, [2], numpy: true),
        Case("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", 1, [2], numpy: true),
        Case("{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2,)}", 1, [2], numpy: true),
        Case("{'shape': (2,), 'fortran_order': False, 'descr': '<f4'}", 1, [2], numpy: true),
        Case("  {'descr': '<f4',\n 'fortran_order': False,\t'shape': ( 2 , ) , }\r\n\u{C}", 1, [2], numpy: true),
        Case("({'descr': '<f4', 'fortran_order': False, 'shape': (2,)})", 1, [2], numpy: true),
        Case("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} # numpy writes no comment", 1, [2], numpy: true),
        Case("{'descr': '<' 'f4', 'fortran_order': False, 'shape': (2,)}", 1, [2], numpy: true),
        Case("{'descr': u'<f4', 'fortran_order': False, 'shape': (2,)}", 1, [2], numpy: true),
        Case("{'descr': r'<f4', 'fortran_order': False, 'shape': (2,)}", 1, [2], numpy: true),
        Case("{'descr': '''<f4''', 'fortran_order': False, 'shape': (2,)}", 1, [2], numpy: true),
        Case("{'descr': '\\x3cf4', 'fortran_order': False, 'shape': (2,)}", 1, [2], numpy: true),
        Case("{'descr': '\\u003cf4', 'fortran_order': False, 'shape': (2,)}", 1, [2], numpy: true),
        Case("{'descr': '\\074f4', 'fortran_order': False, 'shape': (2,)}", 1, [2], numpy: true),
        Case("{'descr': 'f4', 'fortran_order': False, 'shape': (2,)}", 1, [2], numpy: true),
        Case("{'descr': '|f4', 'fortran_order': False, 'shape': (2,)}", 1, [2], numpy: true),
        Case("{'descr': 'float32', 'fortran_order': False, 'shape': (2,)}", 1, [2], numpy: true),
        Case("{'descr': '<f4', 'fortran_order': False, 'shape': (0x2,)}", 1, [2], numpy: true),
        Case("{'descr': '<f4', 'fortran_order': False, 'shape': (0o2,)}", 1, [2], numpy: true),
        Case("{'descr': '<f4', 'fortran_order': False, 'shape': (0b10,)}", 1, [2], numpy: true),
        Case("{'descr': '<f4', 'fortran_order': False, 'shape': (+2,)}", 1, [2], numpy: true),
        Case("{'descr': '<f4', 'fortran_order': False, 'shape': (2L,)}", 1, [2], numpy: true),
        Case("{'descr': '<f4', 'fortran_order': False, 'shape': (2 L,)}", 2, [2], numpy: true),
        Case("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2)}", 1, [1, 2], numpy: true),
        Case("{'descr': '<f4', 'fortran_order': True, 'shape': (1, 2)}", 1, [1, 2], numpy: true),
        Case("{'descr': '<f4', 'fortran_order': False, 'shape': (1_0,)}", 1, [10], numpy: true),
        Case("{'descr': '<f4', 'fortran_order': False, 'shape': (0,)}", 1, [0], numpy: true),
        Case("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} garbage", 1, nil, numpy: false),
        Case("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)};", 1, nil, numpy: false),
        Case("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}\n{}", 1, nil, numpy: false),
        Case("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}\u{0}", 1, nil, numpy: false),
        Case("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}\u{B}", 1, nil, numpy: false),
        Case("{'descr': '<f4', 'fortran_order': False, 'shape': (2,),,}", 1, nil, numpy: false),
        Case("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}", 1, nil, numpy: false),
        Case("{'descr': '<f4', 'fortran_order': False}", 1, nil, numpy: false),
        Case("{'descr': '<f4', 'fortran_order': False, 2: (2,)}", 1, nil, numpy: false),
        Case("['descr', '<f4']", 1, nil, numpy: false),
        Case("{'descr', 'fortran_order', 'shape'}", 1, nil, numpy: false),
        Case("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}", 1, nil, numpy: false),
        Case("{'descr': '<f4', 'fortran_order': None, 'shape': (2,)}", 1, nil, numpy: false),
        Case("{'descr': '<f4', 'fortran_order': 'False', 'shape': (2,)}", 1, nil, numpy: false),
        Case("{'descr': '<f4', 'fortran_order': false, 'shape': (2,)}", 1, nil, numpy: false),
        Case("{'descr': '<f4', 'fortran_order': False, 'shape': [2]}", 1, nil, numpy: false),
        Case("{'descr': '<f4', 'fortran_order': False, 'shape': (2)}", 1, nil, numpy: false),
        Case("{'descr': '<f4', 'fortran_order': False, 'shape': 2}", 1, nil, numpy: false),
        Case("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}", 1, nil, numpy: false, "np.load refuses: negative dimensions"),
        Case("{'descr': '<f4', 'fortran_order': False, 'shape': (- 2,)}", 1, nil, numpy: false, "np.load refuses: negative dimensions"),
        Case("{'descr': '<f4', 'fortran_order': False, 'shape': (--2,)}", 1, nil, numpy: false),
        Case("{'descr': '<f4', 'fortran_order': False, 'shape': (2.0,)}", 1, nil, numpy: false),
        Case("{'descr': '<f4', 'fortran_order': False, 'shape': (True,)}", 1, nil, numpy: false, "np.load refuses: an integer is required"),
        Case("{'descr': '<f4', 'fortran_order': False, 'shape': (02,)}", 1, nil, numpy: false),
        Case("{'descr': '<f4', 'fortran_order': False, 'shape': (2_,)}", 1, nil, numpy: false),
        Case("{'descr': '<f4', 'fortran_order': False, 'shape': (2__0,)}", 1, nil, numpy: false),
        Case("{'descr': '<f4', 'fortran_order': False, 'shape': (2l,)}", 1, nil, numpy: false),
        Case("{'descr': '<f4', 'fortran_order': False, 'shape': (2L,)}", 3, nil, numpy: false),
        Case("{'descr': '<f4', 'fortran_order': False, 'shape': (2,) \\\n}", 1, nil, numpy: true, "line continuation: numpy accepts, never writes; refused"),
        Case("{'descr': b'<f4', 'fortran_order': False, 'shape': (2,)}", 1, nil, numpy: false),
        Case("{'descr': '<f4' b'', 'fortran_order': False, 'shape': (2,)}", 1, nil, numpy: false),
        Case("{'descr': '<F4', 'fortran_order': False, 'shape': (2,)}", 1, nil, numpy: false),
        Case("{'descr': ['<f4'], 'fortran_order': False, 'shape': (2,)}", 1, nil, numpy: false),
        Case("{'descr': '<f4, 'fortran_order': False, 'shape': (2,)}", 1, nil, numpy: false),
        Case("{'descr': f'<f4', 'fortran_order': False, 'shape': (2,)}", 1, nil, numpy: false),
        Case("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)", 1, nil, numpy: false),
        Case("", 1, nil, numpy: false),
        Case("{'descr': '>f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", 1, nil, numpy: true, "numpy keeps the last descr: refused as ambiguous"),
        Case("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'shape': (2,)}", 1, nil, numpy: true, "numpy keeps the last shape: refused as ambiguous"),
        Case("{'descr': '<f4', 'fortran_order': False, 'shape': \\\n(2,)}", 1, nil, numpy: true, "line continuation: numpy accepts, never writes; refused"),
        Case("{'descr': '>f4', 'fortran_order': False, 'shape': (2,)}", 1, nil, numpy: true, "big-endian: unsupported"),
        Case("{'descr': '<i4', 'fortran_order': False, 'shape': (2,)}", 1, nil, numpy: true, "integers: unsupported"),
    ]

    @Test(arguments: cases)
    func headerIsReadAsNumpyReadsIt(_ item: Case) throws {
        if let shape = item.shape {
            #expect(item.numpy, "sift must never accept what numpy refuses")
            let tensor = try NPY.decode(item.bytes)
            #expect(tensor.shape == shape)
        } else {
            #expect(!item.numpy || item.difference != nil, "sift refuses a header numpy accepts without saying why")
            #expect(throws: SiftCoreError.self) { try NPY.decode(item.bytes) }
        }
    }

    /// The issue's case: a duplicate descr used to be read as its first value (big-endian)
    /// while numpy reads the last; now it is refused and the message says why.
    @Test func duplicateKeysAreRefusedByName() {
        let item = Self.cases.first { $0.header.hasPrefix("{'descr': '>f4', 'descr'") }!
        do {
            _ = try NPY.decode(item.bytes)
            Issue.record("accepted")
        } catch {
            #expect(error.message.contains("repeats the key 'descr'"))
        }
    }

    @Test func headerSizeAndVersionLimits() {
        // numpy refuses headers over 10000 characters, and versions other than 1.0, 2.0, 3.0.
        var long = Case("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}" + String(repeating: " ", count: 10_000), 2, nil, numpy: false)
        #expect(throws: SiftCoreError.self) { try NPY.decode(long.bytes) }
        long = Case("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}" + String(repeating: " ", count: 9_000), 2, [2], numpy: true)
        #expect((try? NPY.decode(long.bytes))?.shape == [2])
        var minor = Case("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", 1, [2], numpy: true).bytes
        minor[7] = 1
        #expect(throws: SiftCoreError.self) { try NPY.decode(minor) }
        var four = Case("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", 2, [2], numpy: true).bytes
        four[6] = 4
        #expect(throws: SiftCoreError.self) { try NPY.decode(four) }
    }

    /// A finite float64 beyond float32's range is refused, never read as an infinity.
    @Test func float64OverflowIsRefused() {
        var bytes = Case("{'descr': '<f8', 'fortran_order': False, 'shape': (2,)}", 1, [2], numpy: true).bytes
        bytes.removeLast(8)
        bytes += withUnsafeBytes(of: (1.0).bitPattern.littleEndian) { Array($0) }
        bytes += withUnsafeBytes(of: (1e300).bitPattern.littleEndian) { Array($0) }
        do {
            _ = try NPY.decode(bytes)
            Issue.record("accepted")
        } catch {
            #expect(error.message.contains("beyond float32's range") && error.message.contains("index 1"))
        }
    }
}
