/// One scheduled event: a small value type, no class per event.
struct Event {
    var cycle: Int64
    /// Lower runs first among events of the same cycle.
    var priority: UInt8
    var kind: UInt8
    /// Insertion order: the last tie-breaker, which makes every run deterministic.
    var sequence: UInt64
    /// What the event is about (a core, a row...) and which group (output row) it concerns.
    var subject: Int32
    var group: Int32

    @inline(__always)
    func precedes(_ other: Event) -> Bool {
        if cycle != other.cycle { return cycle < other.cycle }
        if priority != other.priority { return priority < other.priority }
        return sequence < other.sequence
    }
}

/// The simulation's one event queue: a binary min-heap ordered by (cycle, priority,
/// sequence). Events scheduled in the past are refused by a precondition: the engine
/// never does it, and a bug there must not silently reorder time.
struct EventQueue {
    private var heap: [Event] = []
    private var nextSequence: UInt64 = 0
    /// Events popped so far (the simulator reports its own speed in events and cycles).
    private(set) var processed: Int = 0
    private(set) var now: Int64 = 0

    init(capacity: Int = 1024) { heap.reserveCapacity(capacity) }

    var isEmpty: Bool { heap.isEmpty }
    var count: Int { heap.count }

    mutating func schedule(at cycle: Int64, kind: UInt8, subject: Int32, group: Int32 = 0, priority: UInt8 = 1) {
        precondition(cycle >= now, "event scheduled in the past")
        let event = Event(cycle: cycle, priority: priority, kind: kind, sequence: nextSequence, subject: subject, group: group)
        nextSequence &+= 1
        heap.append(event)
        siftUp(heap.count - 1)
    }

    mutating func pop() -> Event? {
        guard let first = heap.first else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            siftDown(0)
        }
        processed += 1
        now = first.cycle
        return first
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        let moving = heap[child]
        while child > 0 {
            let parent = (child - 1) / 2
            guard moving.precedes(heap[parent]) else { break }
            heap[child] = heap[parent]
            child = parent
        }
        heap[child] = moving
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        let moving = heap[parent]
        let count = heap.count
        while true {
            let left = 2 * parent + 1
            guard left < count else { break }
            let right = left + 1
            var best = left
            if right < count, heap[right].precedes(heap[left]) { best = right }
            guard heap[best].precedes(moving) else { break }
            heap[parent] = heap[best]
            parent = best
        }
        heap[parent] = moving
    }
}
