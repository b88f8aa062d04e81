/// Every way the simulator refuses a request. Each case carries a message that names the
/// offending value, so the command line can print it as it is.
public enum SimulatorError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A configuration file that cannot be read or does not parse.
    case unreadableConfig(String)
    /// A configuration whose values are impossible (zero sizes, unknown keys or components...).
    case invalidConfig(String)
    /// An argument of a simulation request outside its allowed range.
    case invalidArgument(String)
    /// A layer (or a whole network) whose resident data cannot fit the SRAM it is given.
    case doesNotFit(String)
    /// Results that cannot be written.
    case io(String)

    public var description: String {
        switch self {
        case .unreadableConfig(let m): "cannot read the configuration: \(m)"
        case .invalidConfig(let m): "invalid configuration: \(m)"
        case .invalidArgument(let m): "invalid argument: \(m)"
        case .doesNotFit(let m): "does not fit: \(m)"
        case .io(let m): "I/O error: \(m)"
        }
    }
}
