import Foundation

/// Writes results so that each output is complete or absent: files go to a temporary
/// sibling and are renamed into place; a results directory is assembled in a temporary
/// directory that replaces the old one in one rename. (Moves to SiftCore's shared writer
/// once it lands.)
public enum OutputFiles {
    /// The file names a results directory may hold; a directory holding anything else is
    /// not replaced.
    public static let resultNames: Set<String> = [
        "results.json", "layers.csv", "products.csv", "config.resolved.json", "trace.json", "summary.txt",
    ]

    static func kind(_ path: String) -> FileAttributeType? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.type] as? FileAttributeType
    }

    /// Writes one file atomically; refuses a path that is a directory, symlink or device.
    public static func writeFile(_ text: String, to path: String) throws {
        if let existing = kind(path), existing != .typeRegular {
            throw SimulatorError.io("\(path) exists and is not a regular file (\(existing.rawValue)); refusing to replace it")
        }
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        do {
            try Data(text.utf8).write(to: temporary)
            if kind(path) != nil { _ = try FileManager.default.replaceItemAt(url, withItemAt: temporary) } else {
                try FileManager.default.moveItem(at: temporary, to: url)
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw SimulatorError.io("cannot write \(path): \(error.localizedDescription)")
        }
    }

    /// Writes a results directory (name → content) at `path`, replacing an earlier results
    /// directory there; refuses a file, a symlink, or a directory with other contents.
    public static func writeDirectory(_ files: [String: String], to path: String) throws {
        let manager = FileManager.default
        let url = URL(fileURLWithPath: path)
        if let existing = kind(path) {
            guard existing == .typeDirectory else {
                throw SimulatorError.io("--out \(path) exists and is not a directory (\(existing.rawValue)); refusing to replace it")
            }
            let contents = (try? manager.contentsOfDirectory(atPath: path)) ?? []
            if let foreign = contents.first(where: { !resultNames.contains($0) }) {
                throw SimulatorError.io("--out \(path) holds '\(foreign)', which is not a simulator result; choose an empty or new directory")
            }
        }
        let parent = url.deletingLastPathComponent()
        let temporary = parent.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        let previous = parent.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).old")
        do {
            try manager.createDirectory(at: parent, withIntermediateDirectories: true)
            try manager.createDirectory(at: temporary, withIntermediateDirectories: false)
            for (name, text) in files.sorted(by: { $0.key < $1.key }) {
                try Data(text.utf8).write(to: temporary.appendingPathComponent(name))
            }
            if kind(path) != nil {
                try manager.moveItem(at: url, to: previous)
                try manager.moveItem(at: temporary, to: url)
                try? manager.removeItem(at: previous)
            } else {
                try manager.moveItem(at: temporary, to: url)
            }
        } catch {
            try? manager.removeItem(at: temporary)
            if kind(previous.path) != nil, kind(path) == nil { try? manager.moveItem(at: previous, to: url) }
            throw SimulatorError.io("cannot write \(path): \(error.localizedDescription)")
        }
    }
}
