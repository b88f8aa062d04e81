import Foundation
import Testing
@testable import DataflowSim

@Suite("Architecture descriptions")
struct ConfigTests {
    @Test func shippedWSE2MatchesTheSchemaDefaults() throws {
        let text = try String(contentsOfFile: configPath("wse2"), encoding: .utf8)
        #expect(text == ConfigLoader.defaults(name: "wse2", description: WSE2.description).json(resolution: false))
        let loaded = try ConfigLoader.load(path: configPath("wse2"))
        for definition in ParameterSchema.definitions { #expect(loaded[definition.key] == definition.defaultValue, "\(definition.key)") }
    }

    @Test func everyParameterStatesWhereItComesFrom() throws {
        for definition in ParameterSchema.definitions {
            switch definition.provenance {
            case .source(let text): #expect(!text.isEmpty, "\(definition.key)")
            case .assumption(let reason): #expect(!reason.isEmpty, "\(definition.key)")
            }
            #expect(ParameterSchema.problem(with: definition.defaultValue, for: definition) == nil, "\(definition.key)")
        }
    }

    @Test func researchMeshExtendsWSE2() throws {
        let config = try MachineConfig(try ConfigLoader.load(path: configPath("research-mesh")))
        #expect(config.meshWidth == 64 && config.meshHeight == 64)
        #expect(config.fp16Lanes == 8)
        #expect(config.sramBytes == 65536)
        #expect(config.linkPayloadBits == 32)  // inherited
        #expect(config.resolved.files.count == 2)
    }

    @Test func overridesApplyAndAreRecorded() throws {
        let config = try ConfigLoader.load(path: configPath("wse2"), overrides: ["mesh.clock_hz=1.1e9", "core.precision=fp16"])
        #expect(config["mesh.clock_hz"] == .number(1.1e9))
        #expect(config.parameters["mesh.clock_hz"]?.setBy == "--set")
        #expect(try MachineConfig(config).lanes == 4)
        // The resolved config loads back as a config file.
        let folder = try TemporaryFolder()
        let path = try folder.write("resolved.json", config.json())
        let again = try ConfigLoader.load(path: path)
        #expect(again["mesh.clock_hz"] == .number(1.1e9))
    }

    /// A config file that differs from wse2.json by one edit.
    func edited(_ edit: (inout String) -> Void) throws -> (TemporaryFolder, String) {
        var text = try String(contentsOfFile: configPath("wse2"), encoding: .utf8)
        edit(&text)
        let folder = try TemporaryFolder()
        return (folder, try folder.write("edited.json", text))
    }

    func expectInvalid(_ mentions: String, sourceLocation: SourceLocation = #_sourceLocation, _ edit: (inout String) -> Void) throws {
        let (folder, path) = try edited(edit)
        _ = folder
        do {
            _ = try ConfigLoader.load(path: path)
            Issue.record("accepted a config that should be refused (\(mentions))", sourceLocation: sourceLocation)
        } catch let error as SimulatorError {
            #expect(error.description.contains(mentions), "\(error.description)", sourceLocation: sourceLocation)
        }
    }

    @Test func impossibleValuesAreRefused() throws {
        try expectInvalid("mesh.width must be in 1") { $0 = $0.replacingOccurrences(of: "\"width\": {\"value\": 750", with: "\"width\": {\"value\": 0") }
        try expectInvalid("mesh.height must be in 1") { $0 = $0.replacingOccurrences(of: "\"height\": {\"value\": 994", with: "\"height\": {\"value\": -4") }
        try expectInvalid("sram.bytes_per_core must be a whole number") {
            $0 = $0.replacingOccurrences(of: "\"bytes_per_core\": {\"value\": 49152", with: "\"bytes_per_core\": {\"value\": 1.5")
        }
        try expectInvalid("mesh.clock_hz must be greater than 0") {
            $0 = $0.replacingOccurrences(of: "\"clock_hz\": {\"value\": 850000000", with: "\"clock_hz\": {\"value\": 0")
        }
        try expectInvalid("unknown core component 'warp-core'") {
            $0 = $0.replacingOccurrences(of: "\"core\": {\"value\": \"dataflow-core\"", with: "\"core\": {\"value\": \"warp-core\"")
        }
        try expectInvalid("unknown parameter mesh.depth") {
            $0 = $0.replacingOccurrences(of: "\"mesh\": {", with: "\"mesh\": {\n\"depth\": {\"value\": 1, \"unit\": \"cores\", \"default\": 1, \"source\": \"x\"},")
        }
        try expectInvalid("is in cores, not 'tiles'") {
            $0 = $0.replacingOccurrences(of: "\"width\": {\"value\": 750, \"unit\": \"cores\"", with: "\"width\": {\"value\": 750, \"unit\": \"tiles\"")
        }
        try expectInvalid("states default 751") {
            $0 = $0.replacingOccurrences(of: "\"width\": {\"value\": 750, \"unit\": \"cores\", \"default\": 750", with: "\"width\": {\"value\": 750, \"unit\": \"cores\", \"default\": 751")
        }
        try expectInvalid("needs either a non-empty 'source'") {
            $0 = $0.replacingOccurrences(of: "\"default\": 750, \"source\"", with: "\"default\": 750, \"reason\"")
        }
        try expectInvalid("region 800x994 does not fit") {
            $0 = $0.replacingOccurrences(of: "\"region_width\": {\"value\": 0", with: "\"region_width\": {\"value\": 800")
        }
        try expectInvalid("the dataflows need 4 colours") {
            $0 = $0.replacingOccurrences(of: "\"colors\": {\"value\": 24", with: "\"colors\": {\"value\": 2")
        }
        try expectInvalid("does not fit one 32-bit wavelet payload") {
            $0 = $0.replacingOccurrences(of: "\"weight_index_bits\": {\"value\": 16", with: "\"weight_index_bits\": {\"value\": 20")
        }
        try expectInvalid("leaves no data space") {
            $0 = $0.replacingOccurrences(of: "\"reserved_bytes\": {\"value\": 8192", with: "\"reserved_bytes\": {\"value\": 49152")
        }
    }

    @Test func unparseableAndIncompleteFilesAreRefused() throws {
        let folder = try TemporaryFolder()
        for (name, text, mention) in [
            ("truncated.json", "{\"format_version\": 1, \"name\": \"x\", \"parameters\": {", "does not parse as JSON"),
            ("array.json", "[1, 2]", "top level must be a JSON object"),
            ("version.json", "{\"format_version\": 2, \"name\": \"x\", \"parameters\": {}}", "format_version 2.0 is not supported"),
            ("missing.json", "{\"format_version\": 1, \"name\": \"x\", \"parameters\": {}}", "missing parameter(s) mesh.width"),
            ("cycle.json", "{\"format_version\": 1, \"name\": \"x\", \"extends\": \"cycle.json\"}", "cycle"),
            ("unknownkey.json", "{\"format_version\": 1, \"name\": \"x\", \"colour\": 3}", "unknown top-level key 'colour'"),
            ("huge.json", String(repeating: " ", count: (4 << 20) + 1) + "{}", "byte limit"),
            ("orphan.json", "{\"format_version\": 1, \"name\": \"x\", \"extends\": \"no-such-parent.json\"}", "no-such-parent.json: No such file"),
        ] {
            let path = try folder.write(name, text)
            do {
                _ = try ConfigLoader.load(path: path)
                Issue.record("\(name) was accepted")
            } catch let error as SimulatorError {
                #expect(error.description.contains(mention), "\(name): \(error.description)")
            }
        }
        #expect(throws: SimulatorError.self) { try ConfigLoader.locate("no-such-config", searchDirectories: [folder.url.path]) }
    }

    @Test func badOverridesAreRefused() throws {
        for (text, mention) in [("mesh.width", "key=value"), ("mesh.depth=3", "unknown parameter 'mesh.depth'"),
                                ("mesh.width=wide", "is not a number"), ("mesh.width=0", "must be in 1"),
                                ("fabric.multicast=maybe", "not true or false"), ("core.precision=fp8", "must be one of")] {
            do {
                _ = try ConfigLoader.load(path: configPath("wse2"), overrides: [text])
                Issue.record("--set \(text) was accepted")
            } catch let error as SimulatorError {
                #expect(error.description.contains(mention), "\(text): \(error.description)")
            }
        }
    }
}
