import Foundation

/// How a run gets its kernel tuning: read from the tuning file, or searched on first use
/// (announced, bounded) and stored for the next runs.
public enum TuningSession {
    /// The environment variable that selects the defaults (`SIFT_TUNING=defaults`): tests
    /// and CI set it so that they never start a search.
    public static let environmentVariable = "SIFT_TUNING"
    /// Seconds a search on first use may take.
    public static let firstUseBudgetSeconds = 90.0

    /// Where the parameters of a run came from (the bench header prints it).
    public enum Source: Equatable, Sendable, CustomStringConvertible {
        /// The kernels' defaults (derived from the cache sizes); the reason.
        case defaults(String)
        /// A record read from this file.
        case file(String)
        /// Searched in this run, and stored in the file (nil when it could not be written).
        case searched(String?)

        public var description: String {
            switch self {
            case .defaults(let why): "default parameters (\(why))"
            case .file(let path): "tuned parameters (\(path))"
            case .searched(let path): "tuned parameters (searched in this run\(path.map { ", stored in \($0)" } ?? ""))"
            }
        }
    }

    /// Whether the environment asks for the defaults.
    public static func defaultsRequested(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        guard let value = environment[environmentVariable]?.lowercased() else { return false }
        return ["defaults", "default", "off", "0", "no"].contains(value)
    }

    /// `options` with the tuning for this machine, ISA and thread count:
    /// - `SIFT_TUNING=defaults`: none (the defaults);
    /// - a valid record in the file (`path`, else `TuningFile.defaultPath()`): that one;
    /// - otherwise, when `searchIfMissing`: a search of at most `budgetSeconds`, announced
    ///   through `warn` before it starts, then stored in the file for later runs. A corrupt
    ///   or foreign file is not used (a warning says why); storing keeps the other
    ///   machines' records of a readable file and replaces an unreadable one.
    public static func resolve(_ options: ExecutionOptions, path: String?, searchIfMissing: Bool,
                               budgetSeconds: Double = firstUseBudgetSeconds,
                               environment: [String: String] = ProcessInfo.processInfo.environment,
                               warn: @escaping @Sendable (String) -> Void) throws(KernelError) -> (ExecutionOptions, Source) {
        var tuned = options
        tuned.tuning = nil
        if defaultsRequested(environment) { return (tuned, .defaults("\(environmentVariable)=\(environment[environmentVariable] ?? "")")) }
        let file = path ?? TuningFile.defaultPath(environment: environment)
        let key = KernelTuning.Key(options)
        switch TuningFile.lookup(key, at: file) {
        case .found(let record):
            tuned.tuning = record
            return (tuned, .file(file))
        case .unusable(let reason):
            warn("warning: ignoring the kernel tuning in \(file): \(reason)")
        case .absent:
            break
        }
        guard searchIfMissing else { return (tuned, .defaults("no tuning for \(key) in \(file)")) }
        warn("sift: no kernel tuning for \(key) yet: measuring this machine once (at most \(Int(budgetSeconds)) s); later runs read \(file). \(environmentVariable)=defaults skips this.")
        let record = try KernelTuner(options: options, budgetSeconds: budgetSeconds, log: { warn("sift: tuning: \($0)") }).tune()
        tuned.tuning = record
        do {
            try TuningFile.store(record, at: file)
            warn(String(format: "sift: tuning done in %.0f s, stored in %@", record.searchSeconds, file))
            return (tuned, .searched(file))
        } catch {
            warn("warning: the tuning is used for this run but could not be stored: \(error)")
            return (tuned, .searched(nil))
        }
    }
}
