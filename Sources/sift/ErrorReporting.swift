import ArgumentParser
import DataflowSim
import Foundation
import SiftReport
import SiftSweep
import SiftONNX
import SparseIFT
import SparseKernels
import SparseRuntime

/// Runs a command's work; a library error (bad input of any kind) becomes one clear line
/// on stderr and exit code 2, never a trap and never a stack of framework text.
func reportingErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as any Error & CustomStringConvertible where isLibraryError(error) {
        // A write that failed because a termination signal is removing the partial
        // outputs is not the user's error: let the signal's exit status stand.
        PartialOutputs.yieldToTermination()
        FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
        throw ExitCode(2)
    }
}

/// The error types of the toolkit's libraries: each carries a message that names the
/// problem, printed as it is.
private func isLibraryError(_ error: any Error) -> Bool {
    error is KernelError || error is SiftCoreError || error is SparseIFTError || error is SweepError
        || error is ReportError || error is ONNXError || error is SimulatorError
        || error is RuntimeError
}
