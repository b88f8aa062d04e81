import ArgumentParser
import Foundation
import SparseIFT

struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "List the model zoo with each model's dense parameters and forward MACs.")

    @Option(parsing: .unconditional, help: "Tokens per sequence for the GPT models.")
    var sequence: Int = 2048

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    struct Row: Codable {
        let name: String
        let description: String
        let params: Int
        let macs: Int
    }

    func run() throws {
        let (rows, text) = try reportingErrors {
            let rows = try ModelZoo.entries.map { entry -> Row in
                let account = Accounting.account(try ModelZoo.build(entry.name, options: ModelZoo.Options(sequenceLength: sequence)))
                return Row(name: entry.name, description: entry.summary, params: account.params, macs: account.macs)
            }
            guard json else { return (rows, "") }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            do {
                return (rows, String(decoding: try encoder.encode(rows), as: UTF8.self))
            } catch {
                throw SparseIFTError.invalidArgument("the model list cannot be written as JSON: \(error)")
            }
        }
        if json {
            print(text)
            return
        }
        let header = ["model", "params", "forward MACs", "description"]
        let cells = [header] + rows.map { [$0.name, TransformReport.grouped($0.params), TransformReport.grouped($0.macs), $0.description] }
        let widths = (0..<header.count).map { column in cells.map { $0[column].count }.max() ?? 0 }
        for row in cells {
            print(row.enumerated().map { column, cell in
                column == 3 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  "))
        }
        print("(MACs per sample: one image, or one sequence of \(sequence) tokens; `mlp` with its default widths)")
    }
}
