/// Activation memory: every buffer gets an offset in one arena, buffers whose lifetimes
/// overlap never share bytes, and those that do not may. Lifetimes are step intervals
/// (from the first step that touches a buffer to the last); offsets are found greedily,
/// largest buffer first, each at the lowest address that clears every overlapping one
/// already placed (the classic greedy-by-size scheme of mobile inference runtimes). The
/// arena's size is the plan's peak activation memory.
struct MemoryPlan: Sendable {
    /// Offset of each buffer, in floats (multiples of 16: every buffer is 64-byte aligned).
    let offsets: [Int]
    let totalFloats: Int
    /// Lifetime of each buffer as (first step, last step); nil for buffers no step uses.
    let lifetimes: [ClosedRange<Int>?]

    var totalBytes: Int { totalFloats * MemoryLayout<Float>.size }
}

enum MemoryPlanner {
    static let alignmentFloats = 16

    static func plan(buffers: [BufferSpec], steps: [Step]) -> MemoryPlan {
        var first = [Int](repeating: Int.max, count: buffers.count)
        var last = [Int](repeating: -1, count: buffers.count)
        for (index, step) in steps.enumerated() {
            for buffer in step.reads + [step.writes] + step.scratch where buffer >= 0 {
                first[buffer] = min(first[buffer], index)
                last[buffer] = max(last[buffer], index)
            }
        }
        let lifetimes: [ClosedRange<Int>?] = buffers.indices.map { last[$0] >= 0 ? first[$0]...last[$0] : nil }
        let sizes = buffers.map { ($0.floats + alignmentFloats - 1) / alignmentFloats * alignmentFloats }
        let order = buffers.indices.filter { lifetimes[$0] != nil }.sorted { sizes[$0] != sizes[$1] ? sizes[$0] > sizes[$1] : $0 < $1 }
        var offsets = [Int](repeating: 0, count: buffers.count)
        var placed: [Int] = []
        var total = 0
        for buffer in order {
            guard let lifetime = lifetimes[buffer] else { continue }
            let conflicts = placed.filter { lifetimes[$0]!.overlaps(lifetime) }.sorted { offsets[$0] < offsets[$1] }
            var candidate = 0
            for other in conflicts {
                if candidate + sizes[buffer] <= offsets[other] { break }
                candidate = max(candidate, offsets[other] + sizes[other])
            }
            offsets[buffer] = candidate
            placed.append(buffer)
            total = max(total, candidate + sizes[buffer])
        }
        return MemoryPlan(offsets: offsets, totalFloats: total, lifetimes: lifetimes)
    }
}
