import Foundation
import SiftCore
import SparseIFT

/// ONNX in and out for sift networks: the library's entry points.
///
/// Export writes a network and its parameters as a standard ONNX model (opset 17, IR
/// version 8, float32, symbolic batch dimension `batch`), which ONNX Runtime and
/// DeepSparse 1.8 read. Import reads such a model, or the common equivalent forms other
/// exporters write, back into a `Network` and its `ParameterStore`, detecting each
/// weight's sparsity and pattern from its zeros.
///
/// ```swift
/// let bytes = try ONNXModel.serialize(network, parameters: parameters)
/// let (network, parameters) = try ONNXModel.load(path: "model.onnx")
/// let y = try ReferenceExecution.run(network, parameters: parameters, input: x)
/// ```
public enum ONNXModel {
    /// The default-domain operator set the exporter targets. 17 is the first with
    /// LayerNormalization; DeepSparse 1.8 requires onnx < 1.15, which reads up to opset 19
    /// (its bundled ONNX Runtime is 1.15), so Gelu (opset 20) is written as its expansion.
    public static let opsetVersion: Int64 = 17
    /// The IR version of onnx 1.12, the first release with opset 17.
    public static let irVersion: Int64 = 8
    /// The epsilon of every BatchNorm and LayerNorm of the IR (PyTorch's default).
    public static let normEpsilon = 1e-5

    /// How the exporter writes what more than one standard form can express.
    public struct ExportOptions: Hashable, Sendable {
        public enum LayerNormForm: String, Hashable, Sendable, CaseIterable {
            /// ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul, Add: the form PyTorch
            /// exports below opset 17. The default: DeepSparse 1.8 runs it natively (all of a
            /// GPT graph), while its LayerNormalization only runs through its ONNX Runtime
            /// fallback (measured: 91% of the ops supported); ONNX Runtime fuses it back.
            case decomposed
            /// The LayerNormalization operator (opset 17).
            case `operator`
        }

        public var layerNorm: LayerNormForm
        public var producerVersion: String

        public init(layerNorm: LayerNormForm = .decomposed, producerVersion: String = "") {
            self.layerNorm = layerNorm
            self.producerVersion = producerVersion
        }
    }

    /// The serialized ONNX model of `network` with `parameters` (validated first). Masked
    /// weights are stored densely with their zeros. Throws `ONNXError.invalidArgument`
    /// for weights that do not fit the network or a model above protobuf's 2 GiB limit.
    public static func serialize(_ network: Network, parameters: ParameterStore,
                                 options: ExportOptions = ExportOptions()) throws -> [UInt8] {
        try ONNXExporter.model(network: network, parameters: parameters, options: options).serialized()
    }

    /// Reads an ONNX file into a network and its parameters, ready for
    /// `ReferenceExecution.run` or the runtime.
    ///
    /// Errors (`ONNXError`): `.io` (missing, unreadable or not a regular file, over 2 GiB),
    /// `.malformed` (not a valid protobuf ModelProto: truncated, corrupt),
    /// `.unsupported` (an operator or form the IR cannot represent; names the node and
    /// its operator), `.invalidModel` (an inconsistent graph or non-finite weights).
    public static func load(path: String) throws -> (network: Network, parameters: ParameterStore) {
        try load(bytes: try readModelFile(path))
    }

    /// Like `load(path:)`, from the file's bytes.
    public static func load(bytes: [UInt8]) throws -> (network: Network, parameters: ParameterStore) {
        do {
            return try ONNXImporter.load(try ModelProto.decode(bytes: bytes))
        } catch let error as ONNXError {
            throw error
        } catch let error as SparseIFTError {
            // One error type for callers: anything the IR refuses is an invalid model.
            throw ONNXError.invalidModel(error.description)
        } catch let error as SiftCoreError {
            throw ONNXError.invalidModel(error.message)
        }
    }

    /// Reads a whole regular file of at most 2 GiB (protobuf's limit, checked before
    /// reading); directories, FIFOs and devices are refused by SiftCore's reader.
    static func readModelFile(_ path: String) throws(ONNXError) -> [UInt8] {
        var info = stat()
        if stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG, Int(info.st_size) > maximumMessageBytes {
            throw .io("\(path) has \(info.st_size) bytes; an ONNX file holds at most 2 GiB")
        }
        do {
            return try SafeFile.read(path)
        } catch {
            throw .io(error.message)
        }
    }
}
