import Testing
import SiftCore

/// The one rule both caches (kernel tuning, runtime plans) take their folder from.
@Suite struct CacheDirectoryTests {
    @Test("XDG_CACHE_HOME when absolute, else HOME/.cache, else nothing")
    func rule() {
        #expect(CacheDirectory.path(environment: ["XDG_CACHE_HOME": "/x/cache", "HOME": "/home/u"]) == "/x/cache/sift")
        #expect(CacheDirectory.path(environment: ["HOME": "/home/u"]) == "/home/u/.cache/sift")
        #expect(CacheDirectory.path(environment: ["XDG_CACHE_HOME": "relative", "HOME": "/home/u"]) == "/home/u/.cache/sift")
        #expect(CacheDirectory.path(environment: ["XDG_CACHE_HOME": "", "HOME": ""]) == nil)
        #expect(CacheDirectory.path(environment: [:]) == nil)
    }
}
