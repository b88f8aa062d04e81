/// Where sift keeps what it learns about a machine (kernel tuning, runtime plans):
/// `$XDG_CACHE_HOME/sift`, else `$HOME/.cache/sift`. A relative `XDG_CACHE_HOME` is
/// ignored, as the XDG specification says: a cache must not land in whatever directory
/// sift happens to run in. Nil when neither variable gives a place.
public enum CacheDirectory {
    public static func path(environment: [String: String]) -> String? {
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") { return xdg + "/sift" }
        if let home = environment["HOME"], !home.isEmpty { return home + "/.cache/sift" }
        return nil
    }
}
