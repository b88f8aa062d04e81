import Testing
@testable import SparseKernels

/// The kernel registry drives these tests: every entry this CPU can run, forced (not
/// left to the dispatch), on threads 1 and 2, at the edges of its own tile, layout unit
/// and K block (RegistryEdgeCases), against the double-precision oracle. Serialized: the
/// cases enter OpenMP regions and the thread counts must be real.
@Suite("Kernel registry", .serialized)
struct RegistryTests {
    static let runnable = KernelRegistry.all.filter { $0.isa <= Machine.bestISA }

    @Test("Every kernel at its own tile and K-block edges, threads 1 and 2", arguments: runnable)
    func kernelAtItsEdges(kernel: KernelInfo) throws {
        let cases = RegistryEdgeCase.cases(for: kernel)
        #expect(cases.count >= 10, "\(kernel.name): too few cases")
        for (caseIndex, edge) in cases.enumerated() {
            let seed = UInt64(1000 + caseIndex)
            let (w, prepared) = try edge.weights(seed: seed)
            let x = RandomWeights.dense(rows: edge.k, columns: edge.n, seed: seed &+ 7)
            let choices = epilogues(rows: edge.m, columns: edge.n, seed: seed)
            let (name, epilogue) = choices[caseIndex % choices.count]
            for threads in [1, 2] {
                let options = try ExecutionOptions(isa: kernel.isa, threads: threads)
                let y = try prepared.multiply(x, epilogue: epilogue, kernel: kernel, blocking: edge.blocking, options: options)
                try expectMatchesReference(y, w: w, x: x, epilogue: epilogue,
                                           "\(kernel.name) \(edge) t=\(threads) epilogue=\(name)")
            }
        }
    }

    @Test("The table is coherent: unique names, a scalar fallback per family, a kernel for every N")
    func coherent() throws {
        let names = KernelRegistry.all.map(\.name)
        #expect(Set(names).count == names.count, "duplicate kernel names")
        for family in KernelFamily.allCases {
            let kernels = KernelRegistry.kernels(of: family)
            #expect(!kernels.isEmpty, "\(family): no kernel")
            let fallbacks = kernels.filter(\.isScalarFallback)
            #expect(fallbacks.count == 1, "\(family): \(fallbacks.count) scalar fallbacks")
            if let fallback = fallbacks.first {
                #expect(fallback.isa == .scalar && fallback.minColumns == 1 && fallback.maxColumns == nil,
                        "\(fallback.name) must run every N on any CPU")
            }
            for isa in ISA.allCases {
                for n in [1, 2, 3, 5, 8, 9, 17, 100, 10_000] {
                    let available = kernels.filter { $0.isa <= isa && $0.accepts(columns: n) }
                    #expect(!available.isEmpty, "\(family) \(isa) N=\(n): no kernel")
                }
            }
        }
        for kernel in KernelRegistry.all {
            #expect(kernel.tileColumns >= 1 && kernel.tileRows >= 0 && kernel.columnGrain >= 1, "\(kernel.name)")
            #expect(kernel.name.contains("__\(kernel.isa.rawValue)"), "\(kernel.name) names its ISA")
            #expect(!kernel.blocking.isEmpty && !kernel.patterns.isEmpty, "\(kernel.name) describes itself")
            #expect(KernelRegistry.named(kernel.name) == kernel)
        }
    }

    @Test("The default dispatch picks the specialised kernels, and candidates list it first")
    func dispatch() throws {
        let options = try ExecutionOptions(isa: Machine.bestISA, threads: 2)
        let dense = try DenseWeights(RandomWeights.dense(rows: 64, columns: 64, seed: 1))
        let gemv = try #require(KernelRegistry.defaultKernel(for: dense, columns: 1, options: options))
        #expect(gemv.name.hasPrefix("sk_f32_gemv__") && gemv.isa == Machine.bestISA)
        let gemm = try #require(KernelRegistry.defaultKernel(for: dense, columns: 100, options: options))
        #expect(gemm.name.hasPrefix("sk_f32_gemm__"))
        let candidates = KernelRegistry.candidates(for: dense, columns: 100, options: options)
        #expect(candidates.first == gemm)
        #expect(candidates.contains { $0.isScalarFallback })
        #expect(!candidates.contains { $0.maxColumns == 1 }, "a GEMV cannot run N = 100")
        #expect(candidates.allSatisfy { $0.family == .dense && $0.isa <= options.isa })
        // An ISA cap: the avx2 request never lists an AVX-512 kernel.
        let avx2 = try ExecutionOptions(isa: min(.avx2, Machine.bestISA), threads: 1)
        #expect(KernelRegistry.candidates(for: dense, columns: 100, options: avx2).allSatisfy { $0.isa <= avx2.isa })
        if Machine.bestISA == .avx512 {
            // CSR's SpMV has no AVX-512 entry: an AVX-512 request runs the 256-bit one.
            let csr = try CSRWeights(RandomWeights.matrix(rows: 64, columns: 64, pattern: .unstructured, sparsity: 0.5, seed: 2))
            #expect(KernelRegistry.defaultKernel(for: csr, columns: 1, options: options)?.name == "sk_f32_spmv_csr__avx2_8")
            // N:M: few columns, few rows (private packing), many rows (shared packing).
            let small = try NMWeights(raggedNM(rows: 64, columns: 64, n: 2, m: 4, seed: 3), n: 2, m: 4)
            #expect(KernelRegistry.defaultKernel(for: small, columns: 5, options: options)?.name == "sk_f32_spmm_nm__avx512_8xfew")
            #expect(KernelRegistry.defaultKernel(for: small, columns: 3136, options: options)?.name == "sk_f32_spmm_nm__avx512_8x48_private")
            let large = try NMWeights(raggedNM(rows: 512, columns: 64, n: 2, m: 4, seed: 3), n: 2, m: 4)
            #expect(KernelRegistry.defaultKernel(for: large, columns: 256, options: options)?.name == "sk_f32_spmm_nm__avx512_8x48_shared")
            let bsr = try BSRWeights(raggedBlocks(rows: 64, columns: 64, blockRows: 4, blockColumns: 4, seed: 4), blockRows: 4, blockColumns: 4)
            #expect(KernelRegistry.defaultKernel(for: bsr, columns: 3, options: options)?.name == "sk_f32_spmm_bsr__avx512_columns")
            #expect(KernelRegistry.defaultKernel(for: bsr, columns: 4, options: options)?.name == "sk_f32_spmm_bsr__avx512_8x48")
        }
    }

    @Test("The pure-Swift capability table agrees with what the kernels accept")
    func capabilitiesAgree() throws {
        let w = Matrix(zeros: 3, 40)
        for m in 1...KernelCapabilities.nmMaxGroupSize {
            #expect(throws: Never.self, "N:M with M = \(m)") { _ = try NMWeights(w, n: 1, m: m) }
        }
        #expect(throws: KernelError.self) { _ = try NMWeights(w, n: 1, m: KernelCapabilities.nmMaxGroupSize + 1) }
        for edge in 1...64 {
            let supported = KernelCapabilities.bsrBlockEdges.contains(edge)
            let rows = (try? BSRWeights(w, blockRows: edge, blockColumns: 1)) != nil
            let columns = (try? BSRWeights(w, blockRows: 1, blockColumns: edge)) != nil
            #expect(rows == supported && columns == supported, "block edge \(edge)")
        }
        #expect(throws: Never.self) { _ = try CSRWeights(Matrix(zeros: 1, KernelCapabilities.csrMaxReduction)) }
        #expect(throws: KernelError.self) { _ = try CSRWeights(Matrix(zeros: 1, KernelCapabilities.csrMaxReduction + 1)) }
        // The C table's own description of the N:M and BSR limits says the same.
        for kernel in KernelRegistry.kernels(of: .nm) { #expect(kernel.patterns.contains("M <= \(KernelCapabilities.nmMaxGroupSize)")) }
        let edges = KernelCapabilities.bsrBlockEdges.map(String.init).joined(separator: ",")
        for kernel in KernelRegistry.kernels(of: .bsr) { #expect(kernel.patterns.contains("{\(edges)}")) }
        for kernel in KernelRegistry.kernels(of: .csr) { #expect(kernel.patterns.contains("K <= \(KernelCapabilities.csrMaxReduction)")) }
        for family in KernelFamily.allCases { #expect(!KernelRegistry.kernels(of: family).isEmpty) }
    }
}
