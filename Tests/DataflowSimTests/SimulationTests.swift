import Foundation
import SparseIFT
import Testing
@testable import DataflowSim

@Suite("Functional mode: the simulated cores compute the dense reference product")
struct FunctionalTests {
    static let cases: [(String, SparsityPattern, Double)] = [
        ("dense", .unstructured, 0), ("unstructured", .unstructured, 0.7), ("2:4", .nOfM(n: 2, m: 4), 0.5),
        ("4x4 blocks", .block(rows: 4, columns: 4), 0.5), ("1x8 blocks", .block(rows: 1, columns: 8), 0.6),
    ]

    @Test(arguments: ["research-mesh", "wse2"], SlicingPolicy.allCases)
    func everyPassOfEveryPatternMatches(config: String, slicing: SlicingPolicy) throws {
        // On wse2 a 16x16 region: several panels, rows and columns per product.
        let machine = try machine(config, (config == "wse2" ? ["mapping.region_width=16", "mapping.region_height=16"] : [])
                                      + ["mapping.slicing=\(slicing.rawValue)"])
        for (name, pattern, sparsity) in Self.cases {
            for pass in Pass.allCases {
                let mask = sparsity > 0
                    ? try MaskSource.mask(layer: "functional", rows: 48, reduction: 64, sparsity: sparsity, pattern: pattern, seed: 3)
                    : nil
                let result = try Functional.weightStreaming(m: 48, k: 64, n: 40, mask: mask, pattern: pattern, pass: pass,
                                                            machine: machine, seed: 3)
                #expect(result.passed, "\(config) \(slicing) \(name) \(pass): max error \(result.maxError) > \(result.tolerance)")
                #expect(result.checkedValues == (pass == .weightGradient ? 48 * 64 : (pass == .forward ? 48 : 64) * 40))
            }
        }
    }

    @Test func aWrongWeightIsCaught() throws {
        // The check is not vacuous: the same comparison flags a perturbed output.
        let expected: [Double] = [1, 2, 3]
        let result = Functional.compare([1, 2, 3.01], expected, scale: 3, reduction: 4)
        #expect(!result.passed)
    }

    @Test func matmulReportsItsFunctionalCheck() throws {
        let report = try MatmulSimulation.run(MatmulRequest(m: 32, k: 48, n: 24, sparsity: 0.5, pattern: .block(rows: 4, columns: 4),
                                                            passes: Pass.allCases, functional: true, seed: 1),
                                              machine: try machine("research-mesh"))
        #expect(report.functional?.passed == true)
    }
}

@Suite("Closed forms, scaling, agreement, determinism")
struct ModelTests {
    /// The machine of the closed-form checks: FP16 (conflict-free with bank-aware buffers), a 64x64 region.
    func closedFormMachine(_ width: Int = 64) throws -> DataflowMachine {
        try machine("wse2", ["core.precision=fp16", "mapping.region_width=\(width)", "mapping.region_height=64"])
    }

    @Test(arguments: [SimulationMode.cycle, .analytical])
    func balancedDenseLayerTakesTheClosedFormCycles(mode: SimulationMode) throws {
        let machine = try closedFormMachine()
        let report = try MatmulSimulation.run(MatmulRequest(m: 512, k: 512, n: 16384, sparsity: 0, mode: mode), machine: machine)
        let product = report.products[0]
        let mapping = product.mapping
        let config = machine.config
        // Per core and output row: ceil(kPer / 2) wavelets of two weights, each a task trigger and
        // two FP16 AXPYs over L positions at 4 lanes; then the end-of-row control and the last
        // core's store of L partial sums (L/4 64-bit words through one write port).
        let length = Double(mapping.positionsPerColumn)
        let wavelets = (Double(mapping.reductionPerRow) / 2).rounded(.up)
        let trigger = Double(config.triggerCycles)
        let perRow = wavelets * (trigger + 2 * (length / 4).rounded(.up)) + Double(config.controlCycles) + trigger + (length / 4).rounded(.up)
        let closedForm = Double(mapping.groupsPerPanel) * perRow + Double(config.productSetupCycles)
        #expect(abs(product.cycles - closedForm) / closedForm < 0.05, "\(mode): \(product.cycles) vs closed form \(closedForm)")
        // And the closed form is close to the machine's peak for this balanced layer.
        let peak = Double(512 * 512 * 16384) / Double(mapping.coresUsed * 4)
        #expect(closedForm > peak && closedForm < 1.25 * peak)
    }

    @Test func doublingTheRegionHalvesTheComputeCycles() throws {
        let small = try MatmulSimulation.run(MatmulRequest(m: 1024, k: 1024, n: 8192, sparsity: 0.5), machine: try closedFormMachine(32))
        let large = try MatmulSimulation.run(MatmulRequest(m: 1024, k: 1024, n: 8192, sparsity: 0.5), machine: try closedFormMachine(64))
        let computeRatio = large.breakdown.compute / small.breakdown.compute
        let cyclesRatio = large.cycles / small.cycles
        #expect(abs(computeRatio - 0.5) < 0.03, "compute ratio \(computeRatio)")
        #expect(abs(cyclesRatio - 0.5) < 0.08, "cycles ratio \(cyclesRatio)")
    }

    @Test func analyticalAgreesWhenBalancedAndMissesCoupling() throws {
        func ratio(sparsity: Double, buffers: Int) throws -> Double {
            let machine = try machine("wse2", ["core.accumulator_buffers=\(buffers)", "mapping.region_width=32", "mapping.region_height=256",
                                               "mapping.slicing=uniform"])
            let cycle = try MatmulSimulation.run(MatmulRequest(m: 2048, k: 1024, n: 2048, sparsity: sparsity), machine: machine)
            return cycle.products[0].cycles / cycle.products[0].analyticalCycles
        }
        // Balanced (dense), or decoupled by double buffering: within 2%.
        #expect(abs(try ratio(sparsity: 0, buffers: 2) - 1) < 0.02)
        #expect(abs(try ratio(sparsity: 0.9, buffers: 4) - 1) < 0.02)
        // One accumulator: every core waits for the slowest of its column on every output row,
        // which the max-of-sums closed form does not see.
        #expect(try ratio(sparsity: 0.9, buffers: 1) > 1.05)
    }

    @Test func patternsShowTheirBalance() throws {
        let machine = try machine("wse2", ["mapping.region_width=32", "mapping.region_height=128"])
        func imbalance(_ pattern: SparsityPattern) throws -> Double {
            let report = try MatmulSimulation.run(MatmulRequest(m: 1024, k: 1024, n: 4096, sparsity: 0.5, pattern: pattern), machine: machine)
            return report.breakdown.imbalanceIdle / report.cycles
        }
        let nOfM = try imbalance(.nOfM(n: 2, m: 4))
        let unstructured = try imbalance(.unstructured)
        let blocks = try imbalance(.block(rows: 16, columns: 16))
        #expect(nOfM < unstructured)
        #expect(unstructured < blocks)
    }

    func stripped(_ report: MatmulReport) throws -> String {
        var text = try ReportText.json(report)
        // Everything but the simulator's own wall-clock figures is deterministic.
        if let range = text.range(of: "\"simulator\"") { text = String(text[..<range.lowerBound]) }
        return text
    }

    @Test func runsAreDeterministic() throws {
        let machine = try machine("research-mesh")
        let request = MatmulRequest(m: 256, k: 192, n: 640, sparsity: 0.8, passes: Pass.allCases, seed: 7)
        let first = try stripped(MatmulSimulation.run(request, machine: machine))
        let second = try stripped(MatmulSimulation.run(request, machine: machine))
        #expect(first == second)
        var other = request
        other.seed = 8
        #expect(try stripped(MatmulSimulation.run(other, machine: machine)) != first)
    }

    @Test func aLayerThatDoesNotFitIsRefused() throws {
        let machine = try machine("wse2", ["mapping.region_width=4", "mapping.region_height=4"])
        #expect {
            _ = try MatmulSimulation.run(MatmulRequest(m: 1024, k: 1024, n: 1 << 20, sparsity: 0), machine: machine)
        } throws: { error in
            (error as? SimulatorError)?.description.contains("does not fit") == true
        }
    }

    @Test func badRequestsAreRefused() throws {
        let machine = try machine("research-mesh")
        for request in [MatmulRequest(m: 0, k: 4, n: 4, sparsity: 0), MatmulRequest(m: 4, k: 4, n: 4, sparsity: 1),
                        MatmulRequest(m: 4, k: 4, n: 4, sparsity: .nan), MatmulRequest(m: 4, k: 4, n: 4, sparsity: 0, passes: []),
                        MatmulRequest(m: 4, k: 4, n: 4, sparsity: 0, activationSparsity: -0.5)] {
            #expect(throws: SimulatorError.self) { _ = try MatmulSimulation.run(request, machine: machine) }
        }
    }
}

@Suite("Networks: weight streaming and layer pipelining")
struct NetworkTests {
    func mlp(_ kind: TransformKind, _ sparsity: Double) throws -> TransformedNetwork {
        let dense = try ModelZoo.build("mlp", options: ModelZoo.Options(mlpWidths: [64, 128, 128, 10]))
        return try SparseIFT.transform(dense, kind: kind, sparsity: sparsity)
    }

    @Test func weightStreamingStepHasEveryPassAndTheDenseBaseline() throws {
        let run = try NetworkSimulation.run(NetworkRequest(model: "mlp", transformed: try mlp(.wide, 0.75), batch: 32),
                                            machine: try machine("research-mesh"))
        let report = run.report
        let passes = Set(report.layers.map(\.pass))
        #expect(passes == Set(Pass.allCases))
        // The first layer reads the network input: no input gradient.
        #expect(!report.layers.contains { $0.name == "fc1" && $0.pass == .inputGradient })
        #expect(report.speedupVsDense != nil && report.dense != nil)
        #expect(abs(report.breakdown.total - report.cycles) < 1e-6 * report.cycles)
        #expect(abs(report.layers.reduce(0) { $0 + $1.cycles } + Double(machine_stepOverhead) - report.cycles) < 1e-6 * report.cycles)
        #expect(report.samplesPerSecond > 0 && report.stepSeconds == report.seconds)
        #expect(!run.stepTimeline.isEmpty && !run.regionTimeline.isEmpty)
    }

    var machine_stepOverhead: Int { (try? machine("research-mesh").config.stepOverheadCycles) ?? 0 }

    @Test func pipelinedExecutionHarvestsActivationZeros() throws {
        let machine = try machine("research-mesh")
        func run(_ zeros: Double) throws -> NetworkReport {
            try NetworkSimulation.run(NetworkRequest(model: "mlp", transformed: try mlp(.dense, 0), batch: 16, execution: .pipelined,
                                                     activationSparsity: .fixed(zeros)), machine: machine).report
        }
        let dense = try run(0)
        let sparse = try run(0.5)
        func forward(_ report: NetworkReport, _ layer: String) -> NetworkReport.Row? {
            report.layers.first { $0.name == layer && $0.pass == .forward }
        }
        // fc2 reads relu1: half its input is skipped, and it runs faster.
        let skipped = try #require(forward(sparse, "fc2")?.skippedZeroFraction)
        #expect(abs(skipped - 0.5) < 0.05)
        let sparseCycles = try #require(forward(sparse, "fc2")).cycles
        let denseCycles = try #require(forward(dense, "fc2")).cycles
        #expect(sparseCycles < denseCycles * 0.8)
        // fc1 reads the network input: nothing to skip.
        #expect(forward(sparse, "fc1")?.skippedZeroFraction == 0)
        #expect(sparse.cycles < dense.cycles)
    }

    @Test func measuredActivationSparsityComesFromAReferencePass() throws {
        let machine = try machine("research-mesh")
        let report = try NetworkSimulation.run(NetworkRequest(model: "mlp", transformed: try mlp(.dense, 0), batch: 4, execution: .pipelined,
                                                              activationSparsity: .measured), machine: machine).report
        let skipped = try #require(report.layers.first { $0.name == "fc2" && $0.pass == .forward }?.skippedZeroFraction)
        // Kaiming-initialised ReLU layers on a symmetric input zero about half their outputs.
        #expect(skipped > 0.2 && skipped < 0.8)
        #expect(report.activationSparsity?.hasPrefix("measured") == true)
    }

    @Test func measuredZerosOfOnePassEqualThoseOfEachPrefix() throws {
        // A small residual CNN: ReLUs before and after a sum, and layers after the last ReLU.
        var b = NetworkBuilder()
        let x = try b.add("input", .input(shape: [3, 8, 8]))
        let r1 = try b.unary("relu1", .relu, try b.conv("conv1", x, out: 6, kernel: 3, padding: 1, bias: true))
        let r2 = try b.unary("relu2", .relu, try b.conv("conv2", r1, out: 6, kernel: 3, padding: 1, bias: true))
        let r3 = try b.unary("relu3", .relu, try b.add("sum", .add, inputs: [r2, r1]))
        let pooled = try b.unary("flatten", .flatten, try b.unary("pool", .globalAvgPool, r3))
        let r4 = try b.unary("relu4", .relu, try b.linear("fc1", pooled, out: 12))
        _ = try b.linear("fc2", r4, out: 5)
        let network = try b.build(name: "small-cnn")
        let measured = try ActivationZeros.measure(network, seed: 4)
        // The first way: the network cut after each ReLU, run on its own.
        let parameters = try ParameterStore.initialize(network, options: .init(seed: 4))
        let input = try Tensor(shape: [1, 3, 8, 8], values: MaskSource.values(count: 192, seed: 4, stream: "activation-measurement.input"))
        for relu in [r1, r2, r3, r4] {
            var prefix = NetworkBuilder()
            for node in network.nodes[0...relu] { _ = try prefix.add(node.name, node.op, inputs: node.inputs, origin: node.origin) }
            let output = try ReferenceExecution.run(try prefix.build(name: "prefix"), parameters: parameters, input: input)
            let zeros = Double(output.values.filter { $0 == 0 }.count) / Double(output.values.count)
            #expect(measured[relu] == zeros, "\(network.nodes[relu].name)")
        }
        #expect(measured.count == 4)
    }

    @Test func networkRunsAreDeterministic() throws {
        let machine = try machine("research-mesh")
        let request = NetworkRequest(model: "mlp", transformed: try mlp(.parallel, 0.5), batch: 8)
        let first = try NetworkSimulation.run(request, machine: machine).report
        let second = try NetworkSimulation.run(request, machine: machine).report
        #expect(ReportText.layersCSV(first) == ReportText.layersCSV(second))
        #expect(first.cycles == second.cycles)
    }
}

@Suite("Functional mode of layer-pipelined execution")
struct PipelinedFunctionalTests {
    func mlp(_ kind: TransformKind, _ sparsity: Double, pattern: SparsityPattern = .unstructured) throws -> Network {
        let dense = try ModelZoo.build("mlp", options: ModelZoo.Options(mlpWidths: [32, 48, 40, 10]))
        return try SparseIFT.transform(dense, kind: kind, sparsity: sparsity, options: TransformOptions(pattern: pattern)).network
    }

    @Test(arguments: SlicingPolicy.allCases)
    func everyStageMatchesTheReferenceAndSkipsRealZeros(slicing: SlicingPolicy) throws {
        let machine = try machine("research-mesh", ["mapping.slicing=\(slicing.rawValue)"])
        for (kind, sparsity, pattern) in [(TransformKind.dense, 0.0, SparsityPattern.unstructured), (.wide, 0.75, .unstructured),
                                          (.wide, 0.5, .block(rows: 4, columns: 4))] {
            let report = try FunctionalPipelined.network(try mlp(kind, sparsity, pattern: pattern), batch: 6, machine: machine, seed: 2)
            for check in report.checks {
                #expect(check.result.passed, "\(slicing) \(kind) \(check.name): \(check.result.maxError) > \(check.result.tolerance)")
            }
            // Forward, weight gradient per layer, input gradient but for the first layer, the output.
            #expect(report.checks.count == 3 + 3 + 2 + 1)
            // fc2 and fc3 read ReLU outputs: their real zeros were not sent; fc1 reads the input.
            let fc2 = try #require(report.checks.first { $0.name == "fc2 forward" })
            #expect(fc2.skippedZeros > fc2.streamed / 5 && fc2.skippedZeros < fc2.streamed)
            #expect(report.checks.first { $0.name == "fc1 forward" }?.skippedZeros == 0)
            // fc2's output gradient passes through relu2's derivative: zeros there too; fc3's
            // (the seeded gradient of the output) has none.
            #expect((report.checks.first { $0.name == "fc2 input_gradient" }?.skippedZeros ?? 0) > 0)
            #expect(report.checks.first { $0.name == "fc3 input_gradient" }?.skippedZeros == 0)
            #expect(report.passed)
        }
    }

    @Test func sendingZerosChangesNothingButTheCount() throws {
        let network = try mlp(.wide, 0.5)
        let skipping = try FunctionalPipelined.network(network, batch: 4, machine: try machine("research-mesh"), seed: 5)
        let sending = try FunctionalPipelined.network(network, batch: 4,
                                                      machine: try machine("research-mesh", ["pipelined.skip_zero_activations=false"]),
                                                      seed: 5)
        #expect(skipping.passed && sending.passed)
        #expect(skipping.skippedZeros > 0 && sending.skippedZeros == 0)
    }

    @Test func singleProductsMatchInEveryPass() throws {
        let machine = try machine("research-mesh", ["mapping.region_width=8", "mapping.region_height=8"])
        for (pattern, sparsity) in [(SparsityPattern.unstructured, 0.0), (.unstructured, 0.7), (.nOfM(n: 2, m: 4), 0.5),
                                    (.block(rows: 4, columns: 4), 0.5)] {
            let report = try MatmulSimulation.run(MatmulRequest(m: 40, k: 56, n: 12, sparsity: sparsity, pattern: pattern,
                                                                passes: Pass.allCases, execution: .pipelined, activationSparsity: 0.5,
                                                                functional: true, seed: 3), machine: machine)
            #expect(report.functional?.passed == true, "\(pattern) s=\(sparsity): \(String(describing: report.functional))")
        }
    }

    @Test func aWrongWeightIsCaught() throws {
        // The check is not vacuous: a stage that used another weight is flagged.
        let machine = try machine("research-mesh", ["mapping.region_width=8", "mapping.region_height=8"])
        let product = LoweredProduct(node: "fc", kind: .linear, M: 24, K: 32, N: 5, groups: 1, weight: nil, weightRows: 24,
                                     inputFromReLU: false, outputToReLU: false, needsInputGradient: true)
        let stage = try PipelinedMapper.stage(index: 0, product: product, mask: nil, zeros: .init(input: 0, gradient: 0), cores: 64,
                                              machine: machine)
        let w = MaskSource.values(count: 24 * 32, seed: 1, stream: "w")
        let x = MaskSource.values(count: 32 * 5, seed: 1, stream: "x")
        var wrong = w
        wrong[7 * 32 + 3] += 0.25
        let expected = Functional.product(w, x, rows: 24, reduction: 32, positions: 5)
        let right = FunctionalPipelined.run(stage, .forward, weights: w, streamed: x, positions: 5, machine: machine).output
        let bad = FunctionalPipelined.run(stage, .forward, weights: wrong, streamed: x, positions: 5, machine: machine).output
        #expect(Functional.check(right, against: expected).passed)
        #expect(!Functional.check(bad, against: expected).passed)
    }

    @Test func networksItCannotRunAreRefused() throws {
        let resnet = try ModelZoo.build("resnet18-cifar")
        #expect(throws: SimulatorError.self) {
            _ = try FunctionalPipelined.network(resnet, batch: 1, machine: try machine("research-mesh"), seed: 0)
        }
        let mlp = try SparseIFT.transform(try ModelZoo.build("mlp", options: ModelZoo.Options(mlpWidths: [32, 48, 10])), kind: .dense,
                                          sparsity: 0)
        #expect(throws: SimulatorError.self) {
            _ = try NetworkSimulation.run(NetworkRequest(model: "mlp", transformed: mlp, functional: true), machine: try machine("research-mesh"))
        }
    }
}
