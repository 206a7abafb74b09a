import CryptoKit
import Foundation

/// A `KeyProtector` that wraps the data key with AES-256-GCM under a key held in memory. For tests and
/// previews only: phones use `SecureEnclaveKeyProtector`.
public final class SoftwareKeyProtector: KeyProtector, @unchecked Sendable {
    private let key: SymmetricKey
    private static let label = Data("tandem data key v1".utf8)

    /// A protector with the given 32-byte key.
    public init(key: Data) {
        precondition(key.count == 32, "key must be 32 bytes")
        self.key = SymmetricKey(data: key)
    }

    /// A protector with a fresh random key.
    public convenience init() {
        self.init(key: SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) })
    }

    public func wrap(dataKey: Data) throws -> Data {
        do {
            guard let combined = try AES.GCM.seal(dataKey, using: key, authenticating: Self.label).combined else {
                throw KeyProtectorError.Unavailable(reason: "AES-GCM produced no combined box")
            }
            return combined
        } catch let error as KeyProtectorError {
            throw error
        } catch {
            throw KeyProtectorError.Unavailable(reason: "AES-GCM wrap failed: \(error)")
        }
    }

    public func unwrap(wrapped: Data) throws -> Data {
        do {
            let box = try AES.GCM.SealedBox(combined: wrapped)
            return try AES.GCM.open(box, using: key, authenticating: Self.label)
        } catch {
            throw KeyProtectorError.Rejected(reason: "wrapped key does not authenticate under this key")
        }
    }
}
