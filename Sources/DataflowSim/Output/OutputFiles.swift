import Foundation
import SiftCore

/// Writes results through the toolkit's safe writers: a file is complete or absent, a
/// results directory is written whole into a temporary sibling and renamed into place (with
/// a manifest naming sift as its writer), and an existing path that is not an earlier sift
/// output is refused.
public enum OutputFiles {
    /// Refuses `path` as a results directory before any long work.
    public static func checkDirectory(_ path: String) throws {
        do { try SafeDirectory.checkOutput(path) } catch { throw SimulatorError.io(error.description) }
    }

    /// Refuses `path` as an output file before any long work.
    public static func checkFile(_ path: String) throws {
        do { try SafeFile.checkOutput(path) } catch { throw SimulatorError.io(error.description) }
    }

    public static func writeFile(_ text: String, to path: String) throws {
        do { try SafeFile.write(text, to: path) } catch { throw SimulatorError.io(error.description) }
    }

    /// Writes `files` (name → text) as the directory `path`, whole or not at all.
    public static func writeDirectory(_ files: [String: String], to path: String, command: String) throws {
        let manifest: [String: Any] = ["tool": SafeDirectory.tool, "command": command, "files": files.keys.sorted(),
                                       "format_version": NetworkSimulation.formatVersion]
        let manifestBytes: [UInt8]
        do {
            manifestBytes = Array(try JSONSerialization.data(withJSONObject: manifest, options: [.sortedKeys, .prettyPrinted]))
        } catch {
            throw SimulatorError.io("cannot encode the results manifest: \(error.localizedDescription)")
        }
        do {
            try SafeDirectory.write(files.mapValues { Array($0.utf8) }, manifest: manifestBytes, to: path)
        } catch {
            throw SimulatorError.io(error.description)
        }
    }
}
