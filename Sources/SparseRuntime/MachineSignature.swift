import Foundation
import SparseKernels

/// Monotonic wall-clock seconds.
enum Clock {
    static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) * 1e-9
    }
}

/// What a kernel timing depends on besides the layer: the CPU, the ISA path and the
/// thread count. Plan-cache keys start with it, so a cache carried to another machine
/// (or run with other threads) is never trusted.
public struct MachineSignature: Hashable, Sendable, CustomStringConvertible {
    public let cpu: String
    public let isa: ISA
    public let threads: Int

    public init(cpu: String, isa: ISA, threads: Int) {
        self.cpu = cpu
        self.isa = isa
        self.threads = threads
    }

    public static func current(_ options: ExecutionOptions) -> MachineSignature {
        MachineSignature(cpu: cpuModel, isa: options.isa, threads: options.threads)
    }

    public var description: String { "\(cpu) | \(isa) | \(threads) thread\(threads == 1 ? "" : "s")" }

    /// The CPU's model name (`/proc/cpuinfo`), with its family/model/stepping so two
    /// CPUs sold under one name are told apart; "unknown CPU" elsewhere.
    public static let cpuModel: String = {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown CPU" }
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            if line.isEmpty { break }  // the first processor is enough
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            fields[parts[0].trimmingCharacters(in: .whitespaces)] = parts[1].trimmingCharacters(in: .whitespaces)
        }
        let name = fields["model name"] ?? "unknown CPU"
        let family = fields["cpu family"].map { " (family \($0)" } ?? " ("
        return name + family + ", model \(fields["model"] ?? "?"), stepping \(fields["stepping"] ?? "?"))"
    }()
}
