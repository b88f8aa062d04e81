/// A content fingerprint for the files sift writes, so a reader can tell a file from a
/// different run (or an edited one) from the file its manifest lists. FNV-1a, 64 bits:
/// not cryptographic, but stable across machines and runs, and cheap.
public enum Checksum {
    public static func fnv1a64(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        let hex = String(hash, radix: 16)
        return "fnv1a64:" + String(repeating: "0", count: 16 - hex.count) + hex
    }
}
