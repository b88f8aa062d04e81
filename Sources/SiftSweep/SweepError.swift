/// Every way a sweep definition, a shard argument or a CSV merge can be refused. Each
/// case carries a message naming the offending value or file, so the CLI prints it as is.
public enum SweepError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A `--shard` argument or a sweep definition that makes no sense.
    case invalidArgument(String)
    /// A CSV file that does not parse, or lacks the columns a sweep file must have.
    case malformedCSV(String)
    /// Shard outputs that cannot be merged: different sweeps, a shard given twice, a
    /// point missing, or two measurements of one point that disagree.
    case mergeConflict(String)
    /// A file that could not be read or written.
    case io(String)

    public var description: String {
        switch self {
        case .invalidArgument(let m): "invalid argument: \(m)"
        case .malformedCSV(let m): "malformed CSV: \(m)"
        case .mergeConflict(let m): "cannot merge: \(m)"
        case .io(let m): "I/O error: \(m)"
        }
    }
}
