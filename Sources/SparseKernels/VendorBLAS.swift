import Foundation
internal import CSparseKernels

/// A vendor BLAS (MKL or OpenBLAS) loaded at run time, for `sift kernels bench --compare`:
/// its sgemm on the same shapes, threads and process as our dense kernel. The toolkit
/// never links against a BLAS; when none is installed the comparison is skipped.
public final class VendorBLAS: @unchecked Sendable {
    public enum Vendor: String, Sendable { case mkl, openblas }

    public let vendor: Vendor
    /// The file that was loaded.
    public let path: String
    /// Version and the code path it really runs (MKL's verbose line names the instruction
    /// set it dispatched to; OpenBLAS's config names its core).
    public let details: String
    private let handle: OpaquePointer

    private init(vendor: Vendor, path: String, handle: OpaquePointer) {
        self.vendor = vendor
        self.path = path
        self.handle = handle
        details = String(cString: sk_blas_description(handle))
    }

    deinit { sk_blas_close(handle) }

    /// Where each vendor's library may be: `SIFT_BLAS` (a path; `none` for no library) first, then the loader's
    /// own search (LD_LIBRARY_PATH, system folders), then where `pip install mkl`, conda,
    /// a virtualenv or oneAPI put it.
    public static func candidates(environment: [String: String] = ProcessInfo.processInfo.environment) -> [(Vendor, String)] {
        var list: [(Vendor, String)] = []
        if let explicit = environment["SIFT_BLAS"], !explicit.isEmpty {
            if explicit == "none" { return [] } // SIFT_BLAS=none: compare with nothing
            list.append((explicit.contains("mkl") ? .mkl : .openblas, explicit))
        }
        var folders: [String] = []
        for variable in ["CONDA_PREFIX", "VIRTUAL_ENV"] {
            if let prefix = environment[variable], !prefix.isEmpty { folders.append(prefix + "/lib") }
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        let pyenv = home + "/.pyenv/versions"
        if let versions = try? FileManager.default.contentsOfDirectory(atPath: pyenv) {
            folders += versions.sorted().reversed().map { "\(pyenv)/\($0)/lib" }
        }
        folders += [home + "/.local/lib", "/usr/local/lib", "/opt/intel/oneapi/mkl/latest/lib", "/opt/intel/mkl/lib/intel64"]
        for name in ["libmkl_rt.so.3", "libmkl_rt.so.2", "libmkl_rt.so"] {
            list.append((.mkl, name))
            list += folders.map { (.mkl, "\($0)/\(name)") }
        }
        for name in ["libopenblas.so.0", "libopenblas.so", "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0"] {
            list.append((.openblas, name))
        }
        return list
    }

    /// The first library of each vendor that loads (MKL first), with `threads` threads.
    public static func loadAvailable(threads: Int, environment: [String: String] = ProcessInfo.processInfo.environment) -> [VendorBLAS] {
        var loaded: [VendorBLAS] = []
        for (vendor, path) in candidates(environment: environment) where !loaded.contains(where: { $0.vendor == vendor }) {
            if path.hasPrefix("/"), !FileManager.default.fileExists(atPath: path) { continue }
            guard let handle = sk_blas_open(path) else { continue }
            let blas = VendorBLAS(vendor: vendor, path: path, handle: handle)
            _ = sk_blas_set_threads(handle, Int32(clamping: threads))
            loaded.append(blas)
        }
        return loaded
    }

    /// Y = W·X with the vendor's sgemm (row-major, no epilogue); shapes checked.
    public func multiply(_ w: Matrix, _ x: Matrix, into y: inout Matrix) throws(KernelError) {
        guard w.columns == x.rows, y.rows == w.rows, y.columns == x.columns else {
            throw .shapeMismatch("sgemm: W is \(w.rows)x\(w.columns), X \(x.rows)x\(x.columns), Y \(y.rows)x\(y.columns)")
        }
        guard w.rows <= Int(Int32.max), w.columns <= Int(Int32.max), x.columns <= Int(Int32.max) else {
            throw .shapeMismatch("sgemm takes 32-bit sizes")
        }
        multiplyUnchecked(w, x, into: &y)
    }

    func multiplyUnchecked(_ w: Matrix, _ x: Matrix, into y: inout Matrix) {
        w.values.withUnsafeBufferPointer { wb in
            x.values.withUnsafeBufferPointer { xb in
                y.values.withUnsafeMutableBufferPointer { yb in
                    sk_blas_sgemm(handle, Int64(w.rows), Int64(x.columns), Int64(w.columns), wb.baseAddress, Int64(w.columns),
                                  xb.baseAddress, Int64(x.columns), yb.baseAddress, Int64(x.columns))
                }
            }
        }
    }
}
