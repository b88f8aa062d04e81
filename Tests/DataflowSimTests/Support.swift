import Foundation
@testable import DataflowSim

/// The repository root (configs/, traces/golden/), found from this file's path.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

func configPath(_ name: String) -> String { repositoryRoot.appendingPathComponent("configs/\(name).json").path }

/// A machine from a shipped config with overrides.
func machine(_ name: String = "wse2", _ overrides: [String] = []) throws -> DataflowMachine {
    try DataflowMachine(try ConfigLoader.load(path: configPath(name), overrides: overrides))
}

/// A scratch folder removed when the test ends.
final class TemporaryFolder {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("dataflowsim-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    func write(_ name: String, _ text: String) throws -> String {
        let path = path(name)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }
}
