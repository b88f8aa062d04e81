import Foundation
import SiftCore

/// One parameter after loading: its value and where that value was set.
public struct ResolvedParameter: Hashable, Sendable {
    public let definition: ParameterDefinition
    public let value: ParameterValue
    public let provenance: Provenance
    /// The file (or `--set`) that set the value.
    public let setBy: String
}

/// A fully resolved architecture description: every parameter of the schema with its value.
public struct ResolvedConfig: Hashable, Sendable {
    public static let formatVersion = 1

    public let name: String
    public let description: String
    /// The files read, the named one first, then the ones it extends.
    public let files: [String]
    /// The `key=value` overrides applied on top, in order.
    public let overrides: [String]
    /// By key, for every parameter of the schema.
    public let parameters: [String: ResolvedParameter]

    public subscript(key: String) -> ParameterValue {
        // Every schema key is present by construction (the loader refuses a gap).
        parameters[key]!.value
    }

    /// One parameter as a report shows it.
    public struct Entry: Sendable, Hashable {
        public let key: String
        public let value: String
        public let unit: String
        /// The public source, or "assumption: <reason>".
        public let provenance: String
        public let isAssumption: Bool
        public let summary: String
    }

    /// Every parameter in schema order, for tables (the report page).
    public var entries: [Entry] {
        ParameterSchema.definitions.compactMap { definition in
            guard let parameter = parameters[definition.key] else { return nil }
            switch parameter.provenance {
            case .source(let text):
                return Entry(key: definition.key, value: parameter.value.description, unit: definition.unit, provenance: text,
                             isAssumption: false, summary: definition.summary)
            case .assumption(let reason):
                return Entry(key: definition.key, value: parameter.value.description, unit: definition.unit,
                             provenance: "assumption: \(reason)", isAssumption: true, summary: definition.summary)
            }
        }
    }

    /// The resolved configuration in the config-file format: it loads back as it is.
    /// `resolution` adds where each value was set (files, overrides, `set_by`).
    public func json(resolution: Bool = true) -> String {
        var lines = ["{"]
        lines.append("  \"format_version\": \(Self.formatVersion),")
        lines.append("  \"name\": \(quoted(name)),")
        lines.append("  \"description\": \(quoted(description)),")
        if resolution {
            lines.append("  \"resolved_from\": [\(files.map(quoted).joined(separator: ", "))],")
            lines.append("  \"overrides\": [\(overrides.map(quoted).joined(separator: ", "))],")
        }
        lines.append("  \"parameters\": {")
        let groups = ParameterSchema.groups
        for (groupIndex, group) in groups.enumerated() {
            lines.append("    \(quoted(group)): {")
            let members = ParameterSchema.definitions.filter { $0.group == group }
            for (index, definition) in members.enumerated() {
                guard let parameter = parameters[definition.key] else { continue }
                var fields = [
                    "\"value\": \(jsonValue(parameter.value))",
                    "\"unit\": \(quoted(definition.unit))",
                    "\"default\": \(jsonValue(definition.defaultValue))",
                ]
                switch parameter.provenance {
                case .source(let text): fields.append("\"source\": \(quoted(text))")
                case .assumption(let reason): fields.append("\"assumption\": true, \"reason\": \(quoted(reason))")
                }
                if resolution { fields.append("\"set_by\": \(quoted(parameter.setBy))") }
                let comma = index == members.count - 1 ? "" : ","
                lines.append("      \(quoted(definition.name)): {\(fields.joined(separator: ", "))}\(comma)")
            }
            lines.append("    }\(groupIndex == groups.count - 1 ? "" : ",")")
        }
        lines.append("  }")
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    private func jsonValue(_ value: ParameterValue) -> String {
        switch value {
        case .number: value.description
        case .flag(let flag): flag ? "true" : "false"
        case .text(let text): quoted(text)
        }
    }
}

/// JSON string literal of a text.
func quoted(_ text: String) -> String {
    var result = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": result += "\\\""
        case "\\": result += "\\\\"
        case "\n": result += "\\n"
        case "\r": result += "\\r"
        case "\t": result += "\\t"
        default:
            if scalar.value < 0x20 {
                result += String(format: "\\u%04x", scalar.value)
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
    }
    return result + "\""
}

/// Reads architecture descriptions: strict JSON checked against `ParameterSchema`, with
/// `extends` (a file that sets only what differs from another) and `key=value` overrides.
public enum ConfigLoader {
    static let topLevelKeys: Set<String> = ["format_version", "name", "description", "extends", "parameters", "resolved_from", "overrides"]
    static let entryKeys: Set<String> = ["value", "unit", "default", "source", "assumption", "reason", "set_by"]
    static let maximumExtendsDepth = 8
    /// Larger files are refused before reading (a config is a few kilobytes).
    static let maximumFileBytes = 4 << 20

    /// Finds a config by path, or by name in the search directories (`<dir>/<name>.json`).
    public static func locate(_ nameOrPath: String, searchDirectories: [String]) throws -> String {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        if manager.fileExists(atPath: nameOrPath, isDirectory: &isDirectory), !isDirectory.boolValue { return nameOrPath }
        // `configs/wse2`, `wse2` and `wse2.json` all name configs/wse2.json.
        let last = (nameOrPath as NSString).lastPathComponent
        let fileName = last.hasSuffix(".json") ? last : last + ".json"
        for directory in searchDirectories {
            let candidate = URL(fileURLWithPath: directory).appendingPathComponent(fileName).path
            if manager.fileExists(atPath: candidate, isDirectory: &isDirectory), !isDirectory.boolValue { return candidate }
        }
        throw SimulatorError.unreadableConfig(
            "no config '\(nameOrPath)': not a file, and no \(fileName) in \(searchDirectories.isEmpty ? "any search directory" : searchDirectories.joined(separator: ", "))")
    }

    /// Loads a config file (and what it extends), then applies `overrides` (`key=value`).
    public static func load(path: String, overrides: [String] = []) throws -> ResolvedConfig {
        var chain: [(path: String, document: [String: JSONValue])] = []
        var current = path
        while true {
            guard chain.count < maximumExtendsDepth else {
                throw SimulatorError.invalidConfig("\(path): more than \(maximumExtendsDepth) levels of 'extends' (a cycle?)")
            }
            let standardized = URL(fileURLWithPath: current).standardizedFileURL.path
            if chain.contains(where: { URL(fileURLWithPath: $0.path).standardizedFileURL.path == standardized }) {
                throw SimulatorError.invalidConfig("\(current): 'extends' forms a cycle")
            }
            let document = try readDocument(current)
            chain.append((current, document))
            guard let extends = document["extends"] else { break }
            guard case .string(let parent) = extends, !parent.isEmpty else {
                throw SimulatorError.invalidConfig("\(current): 'extends' must be a file name, got \(extends.typeName)")
            }
            let base = URL(fileURLWithPath: current).deletingLastPathComponent()
            current = parent.hasPrefix("/") ? parent : base.appendingPathComponent(parent).path
        }
        // The deepest ancestor first, so each file overrides the ones it extends.
        var values: [String: ResolvedParameter] = [:]
        for (file, document) in chain.reversed() {
            for parameter in try parameters(of: document, file: file) { values[parameter.definition.key] = parameter }
        }
        let missing = ParameterSchema.definitions.filter { values[$0.key] == nil }.map(\.key)
        guard missing.isEmpty else {
            throw SimulatorError.invalidConfig("\(path): missing parameter(s) \(missing.joined(separator: ", ")) (set them or 'extends' a complete config)")
        }
        for text in overrides {
            let parameter = try override(text)
            values[parameter.definition.key] = parameter
        }
        guard case .string(let name) = chain[0].document["name"] else {
            throw SimulatorError.invalidConfig("\(path): missing 'name'")
        }
        var description = ""
        if case .string(let text) = chain[0].document["description"] { description = text }
        let resolved = ResolvedConfig(name: name, description: description, files: chain.map(\.path), overrides: overrides,
                                      parameters: values)
        // Cross-parameter checks: a config that parses but describes an impossible machine.
        _ = try MachineConfig(resolved)
        return resolved
    }

    /// The schema's defaults: the WSE-2-like machine, without any file.
    public static var defaults: ResolvedConfig {
        var values: [String: ResolvedParameter] = [:]
        for definition in ParameterSchema.definitions {
            values[definition.key] = ResolvedParameter(definition: definition, value: definition.defaultValue,
                                                       provenance: definition.provenance, setBy: "default")
        }
        return ResolvedConfig(name: "wse2-defaults", description: "The schema defaults (a WSE-2-like CS-2).", files: [],
                              overrides: [], parameters: values)
    }

    /// The defaults under another name and description (what `configs/wse2.json` holds).
    public static func defaults(name: String, description: String) -> ResolvedConfig {
        let base = defaults
        return ResolvedConfig(name: name, description: description, files: [], overrides: [], parameters: base.parameters)
    }

    /// Applies `key=value` overrides to a resolved config.
    public static func applying(_ overrides: [String], to config: ResolvedConfig) throws -> ResolvedConfig {
        var values = config.parameters
        for text in overrides {
            let parameter = try override(text)
            values[parameter.definition.key] = parameter
        }
        let resolved = ResolvedConfig(name: config.name, description: config.description, files: config.files,
                                      overrides: config.overrides + overrides, parameters: values)
        _ = try MachineConfig(resolved)
        return resolved
    }

    static func readDocument(_ path: String) throws -> [String: JSONValue] {
        let data: Data
        do {
            // SafeFile refuses anything but a regular file, and a file over the limit before
            // reading it, and names the cause of every failure.
            data = Data(try SafeFile.read(path, maxBytes: maximumFileBytes))
        } catch {
            throw SimulatorError.unreadableConfig("config \(error)")
        }
        let document: JSONValue
        do {
            document = try JSONValue.parse(data)
        } catch {
            throw SimulatorError.unreadableConfig("\(path) does not parse as JSON (\(describe(error)))")
        }
        guard case .object(let object) = document else {
            throw SimulatorError.unreadableConfig("\(path): the top level must be a JSON object, got \(document.typeName)")
        }
        if let unknown = object.keys.sorted().first(where: { !topLevelKeys.contains($0) }) {
            throw SimulatorError.invalidConfig("\(path): unknown top-level key '\(unknown)'; allowed: \(topLevelKeys.sorted().joined(separator: ", "))")
        }
        guard case .number(let version) = object["format_version"] ?? .null else {
            throw SimulatorError.invalidConfig("\(path): missing 'format_version' (expected \(ResolvedConfig.formatVersion))")
        }
        guard version == Double(ResolvedConfig.formatVersion) else {
            throw SimulatorError.invalidConfig("\(path): format_version \(version) is not supported (expected \(ResolvedConfig.formatVersion))")
        }
        guard case .string = object["name"] ?? .null else {
            throw SimulatorError.invalidConfig("\(path): 'name' must be a string")
        }
        return object
    }

    static func describe(_ error: Error) -> String {
        if let decoding = error as? DecodingError {
            switch decoding {
            case .dataCorrupted(let context):
                let underlying = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
                return underlying ?? context.debugDescription
            default:
                return String(describing: decoding)
            }
        }
        return error.localizedDescription
    }

    /// The parameters a file sets, each checked against the schema.
    static func parameters(of document: [String: JSONValue], file: String) throws -> [ResolvedParameter] {
        guard let section = document["parameters"] else { return [] }
        guard case .object(let groups) = section else {
            throw SimulatorError.invalidConfig("\(file): 'parameters' must be an object of groups, got \(section.typeName)")
        }
        var result: [ResolvedParameter] = []
        for (group, content) in groups.sorted(by: { $0.key < $1.key }) {
            guard ParameterSchema.groups.contains(group) else {
                throw SimulatorError.invalidConfig("\(file): unknown parameter group '\(group)'; known groups: \(ParameterSchema.groups.joined(separator: ", "))")
            }
            guard case .object(let entries) = content else {
                throw SimulatorError.invalidConfig("\(file): group '\(group)' must be an object, got \(content.typeName)")
            }
            for (name, entry) in entries.sorted(by: { $0.key < $1.key }) {
                let key = "\(group).\(name)"
                guard let definition = ParameterSchema.byKey[key] else {
                    let known = ParameterSchema.definitions.filter { $0.group == group }.map(\.name)
                    throw SimulatorError.invalidConfig("\(file): unknown parameter \(key); group '\(group)' has \(known.joined(separator: ", "))")
                }
                result.append(try parameter(entry, definition: definition, file: file))
            }
        }
        return result
    }

    static func parameter(_ entry: JSONValue, definition: ParameterDefinition, file: String) throws -> ResolvedParameter {
        let key = definition.key
        guard case .object(let fields) = entry else {
            throw SimulatorError.invalidConfig("\(file): \(key) must be an object with value, unit, default and source (or assumption + reason)")
        }
        if let unknown = fields.keys.sorted().first(where: { !entryKeys.contains($0) }) {
            throw SimulatorError.invalidConfig("\(file): \(key) has an unknown field '\(unknown)'; allowed: \(entryKeys.sorted().joined(separator: ", "))")
        }
        guard let raw = fields["value"], let value = raw.parameterValue else {
            throw SimulatorError.invalidConfig("\(file): \(key) needs a scalar 'value'")
        }
        if let problem = ParameterSchema.problem(with: value, for: definition) {
            throw SimulatorError.invalidConfig("\(file): \(problem)")
        }
        guard case .string(let unit) = fields["unit"] ?? .null else {
            throw SimulatorError.invalidConfig("\(file): \(key) needs its 'unit' (\(definition.unit))")
        }
        guard unit == definition.unit else {
            throw SimulatorError.invalidConfig("\(file): \(key) is in \(definition.unit), not '\(unit)'")
        }
        guard let defaultValue = fields["default"]?.parameterValue else {
            throw SimulatorError.invalidConfig("\(file): \(key) needs its 'default' (\(definition.defaultValue))")
        }
        guard defaultValue == definition.defaultValue else {
            throw SimulatorError.invalidConfig("\(file): \(key) states default \(defaultValue), but the default is \(definition.defaultValue)")
        }
        let provenance: Provenance
        switch (fields["source"], fields["assumption"], fields["reason"]) {
        case (.string(let source)?, nil, nil) where !source.isEmpty:
            provenance = .source(source)
        case (nil, .bool(true)?, .string(let reason)?) where !reason.isEmpty:
            provenance = .assumption(reason)
        default:
            throw SimulatorError.invalidConfig("\(file): \(key) needs either a non-empty 'source', or \"assumption\": true with a non-empty 'reason'")
        }
        return ResolvedParameter(definition: definition, value: value, provenance: provenance, setBy: file)
    }

    /// Parses one `key=value` override.
    static func override(_ text: String) throws -> ResolvedParameter {
        let pieces = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        guard pieces.count == 2 else {
            throw SimulatorError.invalidArgument("--set expects key=value (e.g. mesh.clock_hz=1.1e9), got '\(text)'")
        }
        let key = pieces[0].trimmingCharacters(in: .whitespaces)
        let valueText = pieces[1].trimmingCharacters(in: .whitespaces)
        guard let definition = ParameterSchema.byKey[key] else {
            throw SimulatorError.invalidConfig("--set: unknown parameter '\(key)'; known: \(ParameterSchema.definitions.map(\.key).joined(separator: ", "))")
        }
        let value: ParameterValue
        switch definition.kind {
        case .integer, .real:
            guard let number = Double(valueText) else {
                throw SimulatorError.invalidConfig("--set \(key): '\(valueText)' is not a number")
            }
            value = .number(number)
        case .flag:
            guard let flag = Bool(valueText) else { throw SimulatorError.invalidConfig("--set \(key): '\(valueText)' is not true or false") }
            value = .flag(flag)
        case .choice, .component:
            value = .text(valueText)
        }
        if let problem = ParameterSchema.problem(with: value, for: definition) {
            throw SimulatorError.invalidConfig("--set: \(problem)")
        }
        return ResolvedParameter(definition: definition, value: value, provenance: .assumption("set on the command line (--set \(text))"),
                                 setBy: "--set")
    }
}
