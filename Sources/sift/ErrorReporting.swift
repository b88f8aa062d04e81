import ArgumentParser
import Foundation
import SiftReport
import SiftSweep
import SparseIFT
import SparseKernels

/// Runs a command's work; a library error (bad input of any kind) becomes one clear line
/// on stderr and exit code 2, never a trap and never a stack of framework text.
func reportingErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as KernelError {
        FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
        throw ExitCode(2)
    } catch let error as SiftCoreError {
        FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
        throw ExitCode(2)
    } catch let error as SparseIFTError {
        FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
        throw ExitCode(2)
    } catch let error as SweepError {
        FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
        throw ExitCode(2)
    } catch let error as ReportError {
        FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
        throw ExitCode(2)
    }
}
