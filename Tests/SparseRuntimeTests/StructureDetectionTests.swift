import Foundation
import Testing
import CSparseKernels
import SparseKernels
@testable import SparseRuntime

/// The C structure scan (byte map, popcounted N:M groups, pruned block halvings) against a
/// plain Swift brute force, on masks of every kind and on shapes that do not divide.
@Suite struct StructureDetectionTests {
    static func bruteMost(_ map: [Bool], rows: Int, k: Int, m: Int) -> Int {
        var most = 0
        for r in 0..<rows {
            for g in stride(from: 0, to: k, by: m) { most = max(most, (g..<min(k, g + m)).filter { map[r * k + $0] }.count) }
        }
        return most
    }

    /// Every stored block of re x c (clipped at the edges) is full.
    static func bruteExact(_ map: [Bool], rows: Int, k: Int, re: Int, c: Int) -> Bool {
        for r0 in stride(from: 0, to: rows, by: re) {
            for c0 in stride(from: 0, to: k, by: c) {
                var any = false, all = true
                for r in r0..<min(rows, r0 + re) {
                    for col in c0..<min(k, c0 + c) {
                        if map[r * k + col] { any = true } else { all = false }
                    }
                }
                if any && !all { return false }
            }
        }
        return true
    }

    @Test func theScanAgreesWithBruteForce() throws {
        var generator = SeededGenerator(seed: 21)
        let shapes = [(16, 32), (30, 22), (33, 70), (64, 96), (7, 5)]
        let masks: [(String, (Int, Int) -> Bool)] = [
            ("unstructured 0.9", { _, _ in generator.nextUnit() < 0.1 }),
            ("unstructured 0.5", { _, _ in generator.nextUnit() < 0.5 }),
            ("2:4", { _, c in c % 4 < 2 }),
            ("8x4 checkerboard", { r, c in (r / 8 + c / 4) % 2 == 0 }),
            ("4x16 random blocks", { r, c in (r / 4 * 7 + c / 16 * 3) % 5 < 2 }),
            ("whole rows", { r, _ in r % 3 == 0 }),
            ("one nonzero", { r, c in r == 1 && c == 2 }),
        ]
        for (rows, k) in shapes {
            for (name, keep) in masks {
                let map = (0..<(rows * k)).map { keep($0 / k, $0 % k) }
                let weights = map.map { $0 ? Float(generator.nextUnit() + 0.5) : 0 }
                var result = sk_op_structure()
                let groups: UInt32 = (1 << 2) | (1 << 3) | (1 << 4) | (1 << 8) | (1 << 16)
                #expect(weights.withUnsafeBufferPointer { sk_op_detect_structure(Int64(rows), Int64(k), $0.baseAddress, Int64(k), groups, &result) } == 0)
                let nonzeros = map.filter { $0 }.count
                #expect(Int(result.nonzeros) == nonzeros)
                let maxima = withUnsafeBytes(of: result.nm_max) { Array($0.bindMemory(to: Int64.self)) }
                for m in [2, 3, 4, 8, 16] {
                    #expect(Int(maxima[m]) == Self.bruteMost(map, rows: rows, k: k, m: m), "\(name) \(rows)x\(k) group \(m)")
                }
                #expect(maxima[5] == -1)
                let areas = withUnsafeBytes(of: result.block_area) { Array($0.bindMemory(to: Int64.self)) }
                let count = Int(SK_OP_BLOCK_EDGE_COUNT)
                for i in 0..<count {
                    for j in 0..<count {
                        let (re, c) = (Int(sk_op_block_edge(Int32(i))), Int(sk_op_block_edge(Int32(j))))
                        #expect((Int(areas[i * count + j]) == nonzeros) == Self.bruteExact(map, rows: rows, k: k, re: re, c: c),
                                "\(name) \(rows)x\(k): \(re)x\(c) blocks")
                    }
                }
            }
        }
    }
}
