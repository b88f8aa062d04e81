import Foundation
import Testing
import SparseIFT
import SparseKernels
@testable import SparseRuntime

@Suite(.serialized) struct PlanCacheTests {
    static func scratchFile() -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sift-plan-cache-\(UUID().uuidString)")
        return directory.appendingPathComponent("plans.json").path
    }

    static func compile(_ network: Network, _ parameters: ParameterStore, cache: String, retune: Bool = false, threads: Int = 1) throws -> Plan {
        var options = try Harness.options(batch: 2, threads: threads)
        options.planCache = PlanCache(path: cache)
        options.retune = retune
        return try Runtime.compile(network, parameters: parameters, options: options)
    }

    static func sparseNetwork() throws -> (Network, ParameterStore) {
        let network = try SparseIFT.transform(try Small.mlp(), kind: .dense, sparsity: 0.9).network
        return (network, try Harness.parameters(network))
    }

    @Test func aSecondPlanReusesTheTimings() throws {
        let (network, parameters) = try Self.sparseNetwork()
        let path = Self.scratchFile()
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path) }
        let first = try Self.compile(network, parameters, cache: path)
        #expect(first.timedLayers > 0 && first.cachedLayers == 0)
        #expect(FileManager.default.fileExists(atPath: path))
        let second = try Self.compile(network, parameters, cache: path)
        #expect(second.timedLayers == 0 && second.cachedLayers == first.timedLayers)
        #expect(second.layers.map(\.kernel) == first.layers.map(\.kernel))
        #expect(second.warnings.isEmpty)
        let retuned = try Self.compile(network, parameters, cache: path, retune: true)
        #expect(retuned.timedLayers == first.timedLayers)
        // Another thread count is another machine configuration: timed again.
        let twoThreads = try Self.compile(network, parameters, cache: path, threads: 2)
        #expect(twoThreads.timedLayers > 0)
    }

    @Test(arguments: ["garbage", "truncated", "checksum", "format"])
    func aCorruptCacheIsIgnoredAndRebuilt(corruption: String) throws {
        let (network, parameters) = try Self.sparseNetwork()
        let path = Self.scratchFile()
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path) }
        let first = try Self.compile(network, parameters, cache: path)
        var text = try String(contentsOfFile: path, encoding: .utf8)
        switch corruption {
        case "garbage": text = "\u{0}\u{7f}not json at all"
        case "truncated": text = String(text.prefix(text.count / 2))
        case "checksum":  // a plausible edit: each choice set to its slowest candidate, checksum left alone
            var object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            var entries = try #require(object["entries"] as? [String: [String: Any]])
            for (key, var entry) in entries {
                let seconds = try #require(entry["seconds"] as? [String: Double])
                entry["choice"] = seconds.max { $0.value < $1.value }?.key
                entries[key] = entry
            }
            object["entries"] = entries
            text = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        default:  // valid checksum, but a format that does not exist
            let entries: [String: PlanCache.Entry] = ["k": PlanCache.Entry(choice: "magic", seconds: ["magic": 1])]
            text = "{\"format\":\"sift-plan-cache\",\"version\":1,\"entries\":{\"k\":{\"choice\":\"magic\",\"seconds\":{\"magic\":1}}},\"checksum\":\"\(PlanCache.checksum(entries))\"}"
        }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let second = try Self.compile(network, parameters, cache: path)
        #expect(second.warnings.contains { $0.contains("not trusted") }, "\(corruption): \(second.warnings)")
        #expect(second.timedLayers == first.timedLayers, "nothing from a corrupt cache is used")
        let third = try Self.compile(network, parameters, cache: path)
        #expect(third.warnings.isEmpty && third.timedLayers == 0, "the rebuilt cache is valid")
    }

    @Test func aCacheThatCannotBeWrittenIsAWarningNotAFailure() throws {
        let (network, parameters) = try Self.sparseNetwork()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sift-plan-dir-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let plan = try Self.compile(network, parameters, cache: directory)  // a directory, not a file
        #expect(plan.warnings.contains { $0.contains("not trusted") })
        #expect(plan.warnings.contains { $0.contains("could not save") })
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) && isDirectory.boolValue)
    }

    @Test func formatsRoundTripThroughTheirNames() {
        for format in [WeightFormat.dense, .csr, .nm(n: 2, m: 4), .nm(n: 5, m: 16), .bsr(rows: 16, columns: 16), .bsr(rows: 1, columns: 32)] {
            #expect(WeightFormat(parsing: format.description) == format)
        }
        for bad in ["", "nm", "nm 4:2", "nm 2:32", "bsr 3x3", "bsr 16", "dense ", "CSR", "nm2:4", "nm  2:4"] {
            #expect(WeightFormat(parsing: bad) == nil, "\(bad)")
        }
    }
}
