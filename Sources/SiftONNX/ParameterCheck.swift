import SparseIFT

/// The checks of `ParameterStore.validate` (every tensor present with its shape, every
/// value finite, masks of 0 and 1 only), run here in this module's optimized code: on a
/// GPT-sized model the same loops in an unoptimized debug build take seconds per call.
enum ParameterCheck {
    /// The first problem found, or nil when the parameters fit the network.
    static func problem(_ parameters: ParameterStore, for network: Network) -> String? {
        for (key, shape) in ParameterStore.expectedShapes(network).sorted(by: { $0.key < $1.key }) {
            guard let tensor = parameters[key] else { return "missing tensor \(key)" }
            guard tensor.shape == shape else { return "\(key) has shape \(tensor.shape), the network needs \(shape)" }
            let values = tensor.values
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                return "\(key) has a non-finite value \(values[bad]) at index \(bad)"
            }
            if key.hasSuffix(".mask"), let bad = values.firstIndex(where: { $0 != 0 && $0 != 1 }) {
                return "\(key) has the value \(values[bad]) at index \(bad); a mask holds only 0 and 1"
            }
        }
        return nil
    }
}
