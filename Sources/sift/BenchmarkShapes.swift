import SparseIFT
import SparseKernels

extension KernelBenchmark.Shape {
    /// The benchmark's default shapes: products of zoo models, from the GEMM lowering.
    static func loweredDefaults() throws(KernelError) -> [KernelBenchmark.Shape] {
        do {
            return try KernelWorkloads.defaultShapes().map { KernelBenchmark.Shape(name: $0.name, m: $0.M, k: $0.K, n: $0.N) }
        } catch {
            throw .invalidArgument("cannot derive the default shapes from the model zoo: \(error)")
        }
    }
}
