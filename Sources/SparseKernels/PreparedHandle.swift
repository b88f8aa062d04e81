/// Access for C drivers outside this module (the runtime's per-thread convolution driver,
/// `sk_op_conv_gemm_run`), which call `sk_kernel_run` on a prepared matrix themselves.
extension WeightMatrix {
    /// The prepared C matrix (an sk_dense, sk_csr, sk_nm or sk_bsr): valid while this
    /// object lives, and only for the C kernel API (`sk_kernel_run` with a kernel of this
    /// matrix's family).
    public var preparedHandle: UnsafeRawPointer { cHandle }
}
