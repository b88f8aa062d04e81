import ArgumentParser
struct TransformCommand: ParsableCommand { static let configuration = CommandConfiguration(commandName: "transform") }
