import Foundation
import SparseKernels

/// The machine a report's CPU numbers were measured on, written beside every figure:
/// what the CPU calls itself, the ISA path and threads the kernels used, the caches hwloc
/// reports, and the FMA peak and DRAM bandwidth measured in the same run.
public struct MachineDescription: Codable, Sendable, Equatable {
    /// `model name` from /proc/cpuinfo, e.g. "AMD EPYC 9R14 96-Core Processor".
    public var cpuModel: String
    /// Vendor, family, model, stepping as /proc/cpuinfo gives them ("AuthenticAMD 25/17/1").
    public var cpuSignature: String
    public var isa: String
    public var supportedISAs: [String]
    public var threads: Int
    public var cores: Int
    public var hardwareThreads: Int
    public var l1dBytes: Int
    public var l2Bytes: Int
    public var l3Bytes: Int
    /// fp32 FMA peak of `isa` on `threads` threads, GFLOP/s, measured in this run.
    public var peakGFLOPS: Double
    /// DRAM read bandwidth on `threads` threads, GB/s, measured in this run.
    public var dramReadGBs: Double
    public var openMP: Bool
    public var hostname: String
    public var operatingSystem: String
    /// `release` or `debug`: a debug build's Swift overheads would distort timings.
    public var build: String
    /// Load average (1 min) when the run started and ended: above the thread count, the
    /// machine was shared and timings are noisy.
    public var loadAverageStart: Double?
    public var loadAverageEnd: Double?

    enum CodingKeys: String, CodingKey {
        case cpuModel = "cpu_model", cpuSignature = "cpu_signature", isa, supportedISAs = "supported_isas", threads, cores
        case hardwareThreads = "hardware_threads", l1dBytes = "l1d_bytes", l2Bytes = "l2_bytes", l3Bytes = "l3_bytes"
        case peakGFLOPS = "peak_gflops", dramReadGBs = "dram_read_gbs", openMP = "openmp", hostname
        case operatingSystem = "operating_system", build
        case loadAverageStart = "load_average_start", loadAverageEnd = "load_average_end"
    }

    /// Describes this machine and measures its peak and bandwidth with `options`
    /// (about one second). The peak is the best of three probes, as `sift kernels bench`
    /// takes it: a higher peak only makes our own percentages smaller.
    public static func measure(options: ExecutionOptions) -> MachineDescription {
        let info = CPUInfo.read()
        let topology = Machine.topology
        let load = loadAverage()
        let peak = (0..<3).map { _ in Machine.measuredPeakGFLOPS(isa: options.isa, threads: options.threads) }.max() ?? 0
        let bandwidth = Machine.measuredReadBandwidthGBs(threads: options.threads)
        #if DEBUG
        let build = "debug"
        #else
        let build = "release"
        #endif
        return MachineDescription(
            cpuModel: info.model, cpuSignature: info.signature, isa: options.isa.rawValue,
            supportedISAs: Machine.supportedISAs.map(\.rawValue), threads: options.threads,
            cores: topology.cores, hardwareThreads: topology.hardwareThreads,
            l1dBytes: topology.l1dBytes, l2Bytes: topology.l2Bytes, l3Bytes: topology.l3Bytes,
            peakGFLOPS: peak, dramReadGBs: bandwidth, openMP: Machine.openMPEnabled,
            hostname: ProcessInfo.processInfo.hostName, operatingSystem: ProcessInfo.processInfo.operatingSystemVersionString,
            build: build, loadAverageStart: load, loadAverageEnd: nil)
    }

    /// One line for figure subtitles: "AMD EPYC 9R14 · avx512 · 2 threads · peak 231 GFLOP/s".
    public var shortLine: String {
        "\(cpuName) · \(isa) · \(threads) thread\(threads == 1 ? "" : "s") · measured peak \(Format.significant(peakGFLOPS)) GFLOP/s · DRAM \(Format.significant(dramReadGBs)) GB/s"
    }

    /// The model name, with family and model numbers when the name alone is vague (a VM
    /// often reports just "AMD EPYC").
    public var cpuName: String {
        let numbers = cpuSignature.split(separator: " ").last.map(String.init) ?? ""
        guard !cpuModel.contains(where: \.isNumber), numbers.contains("/") else { return cpuModel }
        let parts = numbers.split(separator: "/")
        return parts.count >= 2 ? "\(cpuModel) (family \(parts[0]), model \(parts[1]))" : cpuModel
    }

    /// True when the load average says other work competed for the cores.
    public var wasShared: Bool {
        let worst = max(loadAverageStart ?? 0, loadAverageEnd ?? 0)
        return worst > Double(max(1, cores)) * 0.5 + Double(threads) * 0.5 && worst > 1.2
    }

    /// The 1-minute load average, from /proc/loadavg (nil where there is none).
    public static func loadAverage() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8),
              let first = text.split(separator: " ").first else { return nil }
        return Double(first)
    }

    /// Rows for the machine table of the report.
    public var tableRows: [(String, String)] {
        var rows: [(String, String)] = [
            ("CPU", cpuModel),
            ("CPU signature", cpuSignature),
            ("ISA used (supported)", "\(isa) (\(supportedISAs.joined(separator: ", ")))"),
            ("threads used / cores / hardware threads", "\(threads) / \(cores) / \(hardwareThreads)"),
            ("caches (hwloc)", "L1d \(l1dBytes / 1024) KiB, L2 \(l2Bytes / 1024) KiB, L3 \(l3Bytes >> 20) MiB"),
            ("fp32 FMA peak, measured", "\(Format.fixed(peakGFLOPS, 1)) GFLOP/s (\(isa), \(threads) thread\(threads == 1 ? "" : "s"))"),
            ("DRAM read bandwidth, measured", "\(Format.fixed(dramReadGBs, 1)) GB/s (\(threads) thread\(threads == 1 ? "" : "s"))"),
            ("OpenMP", openMP ? "yes" : "no (single-threaded kernels)"),
            ("host / OS", "\(hostname) / \(operatingSystem)"),
            ("build", build),
        ]
        if loadAverageStart != nil || loadAverageEnd != nil {
            rows.append(("load average (start → end)", "\(Format.fixed(loadAverageStart, 2)) → \(Format.fixed(loadAverageEnd, 2))"
                         + (wasShared ? " — the machine was busy: timings are noisy" : "")))
        }
        return rows
    }
}

/// What /proc/cpuinfo says about the first processor.
struct CPUInfo {
    var model = "unknown CPU"
    var signature = ""

    static func read(path: String = "/proc/cpuinfo") -> CPUInfo {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return CPUInfo() }
        return parse(text)
    }

    static func parse(_ text: String) -> CPUInfo {
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.trimmingCharacters(in: .whitespaces).isEmpty, !fields.isEmpty { break }  // first processor only
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let key = parts[0].trimmingCharacters(in: .whitespaces)
            if fields[key] == nil { fields[key] = parts[1].trimmingCharacters(in: .whitespaces) }
        }
        var info = CPUInfo()
        if let model = fields["model name"] ?? fields["Model name"] ?? fields["cpu model"], !model.isEmpty {
            info.model = model.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        }
        let numbers = [fields["cpu family"], fields["model"], fields["stepping"]].compactMap { $0 }
        let vendor = fields["vendor_id"] ?? ""
        info.signature = numbers.isEmpty ? vendor : "\(vendor) family/model/stepping \(numbers.joined(separator: "/"))"
            .trimmingCharacters(in: .whitespaces)
        return info
    }
}
