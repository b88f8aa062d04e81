import Foundation

/// Result slots shared by the worker threads of `parallelMap`, behind a lock.
private final class ParallelSlots<Output>: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var results: [Output?]
    private(set) var error: Error?
    private var next = 0

    init(count: Int) { results = [Output?](repeating: nil, count: count) }

    func take() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard error == nil, next < results.count else { return nil }
        next += 1
        return next - 1
    }

    func store(_ index: Int, _ result: Result<Output, Error>) {
        lock.lock()
        defer { lock.unlock() }
        switch result {
        case .success(let value): results[index] = value
        case .failure(let failure): if error == nil { error = failure }
        }
    }
}

/// Maps `body` over `items` on up to `threads` threads; results keep the input order, so a
/// run is deterministic whatever the scheduling. The first error thrown is rethrown.
func parallelMap<Input: Sendable, Output: Sendable>(_ items: [Input], threads: Int,
                                                    _ body: @Sendable @escaping (Int, Input) throws -> Output) throws -> [Output] {
    let slots = ParallelSlots<Output>(count: items.count)
    let workers = max(1, min(threads, items.count))
    DispatchQueue.concurrentPerform(iterations: workers) { _ in
        while let index = slots.take() {
            slots.store(index, Result { try body(index, items[index]) })
        }
    }
    if let error = slots.error { throw error }
    return slots.results.map { $0! }
}

/// Threads the simulator uses: one per core the machine reports.
var simulatorThreads: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }
