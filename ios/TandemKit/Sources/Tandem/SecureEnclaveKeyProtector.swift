import CryptoKit
import Foundation
import Security

/// A `KeyProtector` that wraps the store's data key with ECIES (X9.63 SHA-256, AES-GCM) to a P-256 key that
/// lives in the Secure Enclave (or, on a simulator or a Mac without one, in the Keychain), usable only while
/// the device is unlocked and never leaving this device.
///
/// Share the store between the app and its credential-provider extension by giving both the same
/// `accessGroup` (a keychain access group) and an app-group container for the database file.
///
/// A missing wrapping key (deleted, or the database restored onto another device) is
/// `KeyProtectorError.KeyInvalidated`, which the store reports as `TandemError.KeyInvalidated`: the passkeys
/// are lost, and the app offers to start over with `resetAfterKeyLoss(storePath:)`.
public final class SecureEnclaveKeyProtector: KeyProtector, @unchecked Sendable {
    private let tag: Data
    private let accessGroup: String?
    private static let algorithm: SecKeyAlgorithm = .eciesEncryptionCofactorVariableIVX963SHA256AESGCM

    /// - Parameters:
    ///   - tag: Keychain application tag of the wrapping key.
    ///   - accessGroup: Keychain access group shared by the app and its extension, if any.
    public init(tag: String = "dev.tandem.store-data-key", accessGroup: String? = nil) {
        self.tag = Data(tag.utf8)
        self.accessGroup = accessGroup
    }

    public func wrap(dataKey: Data) throws -> Data {
        let key = try privateKey(createIfMissing: true)
        guard let publicKey = SecKeyCopyPublicKey(key) else {
            throw KeyProtectorError.Unavailable(reason: "the wrapping key has no public key")
        }
        var error: Unmanaged<CFError>?
        guard let wrapped = SecKeyCreateEncryptedData(publicKey, Self.algorithm, dataKey as CFData, &error) else {
            throw KeyProtectorError.Unavailable(reason: Self.describe(error, "ECIES wrap failed"))
        }
        return wrapped as Data
    }

    public func unwrap(wrapped: Data) throws -> Data {
        let key = try privateKey(createIfMissing: false)
        var error: Unmanaged<CFError>?
        guard let plain = SecKeyCreateDecryptedData(key, Self.algorithm, wrapped as CFData, &error) else {
            // A blob that does not decrypt under our key was tampered with or made by another key.
            throw KeyProtectorError.Rejected(reason: Self.describe(error, "ECIES unwrap failed"))
        }
        return plain as Data
    }

    /// Deletes the wrapping key, so the next `wrap` (of a new store) creates a fresh one. Only for starting
    /// over after key loss: whatever the old key wrapped cannot be recovered.
    public func deleteKey() throws {
        let status = SecItemDelete(baseQuery() as CFDictionary)
        guard status == errSecSuccess || status == errSecItemNotFound else {
            throw KeyProtectorError.Unavailable(reason: "Keychain delete failed (OSStatus \(status))")
        }
    }

    /// Starts over after `TandemError.KeyInvalidated` (ask the user first): deletes the store's files at
    /// `storePath`, then the wrapping key. Close every `CredentialStore` on that path before calling.
    public func resetAfterKeyLoss(storePath: String) async throws {
        try await deleteStoreFiles(path: storePath)
        try deleteKey()
    }

    private func baseQuery() -> [String: Any] {
        var query: [String: Any] = [
            kSecClass as String: kSecClassKey,
            kSecAttrApplicationTag as String: tag,
            kSecAttrKeyType as String: kSecAttrKeyTypeECSECPrimeRandom,
        ]
        if let accessGroup { query[kSecAttrAccessGroup as String] = accessGroup }
        return query
    }

    private func privateKey(createIfMissing: Bool) throws -> SecKey {
        var query = baseQuery()
        query[kSecReturnRef as String] = true
        var item: CFTypeRef?
        let status = SecItemCopyMatching(query as CFDictionary, &item)
        if status == errSecSuccess, let item {
            return item as! SecKey // swiftlint:disable:this force_cast (SecItemCopyMatching returns a SecKey for kSecClassKey)
        }
        guard status == errSecItemNotFound else {
            throw KeyProtectorError.Unavailable(reason: "Keychain lookup failed (OSStatus \(status))")
        }
        guard createIfMissing else {
            throw KeyProtectorError.KeyInvalidated(
                reason: "no wrapping key in the Keychain (deleted, or the store was restored from another device)")
        }
        return try createKey()
    }

    private func createKey() throws -> SecKey {
        var error: Unmanaged<CFError>?
        guard let access = SecAccessControlCreateWithFlags(
            nil, kSecAttrAccessibleWhenUnlockedThisDeviceOnly, .privateKeyUsage, &error
        ) else {
            throw KeyProtectorError.Unavailable(reason: Self.describe(error, "access control"))
        }
        var privateAttributes: [String: Any] = [
            kSecAttrIsPermanent as String: true,
            kSecAttrApplicationTag as String: tag,
        ]
        var attributes: [String: Any] = [
            kSecAttrKeyType as String: kSecAttrKeyTypeECSECPrimeRandom,
            kSecAttrKeySizeInBits as String: 256,
        ]
        if SecureEnclave.isAvailable {
            privateAttributes[kSecAttrAccessControl as String] = access
            attributes[kSecAttrTokenID as String] = kSecAttrTokenIDSecureEnclave
        } else {
            privateAttributes[kSecAttrAccessible as String] = kSecAttrAccessibleWhenUnlockedThisDeviceOnly
        }
        if let accessGroup { attributes[kSecAttrAccessGroup as String] = accessGroup }
        attributes[kSecPrivateKeyAttrs as String] = privateAttributes
        guard let key = SecKeyCreateRandomKey(attributes as CFDictionary, &error) else {
            throw KeyProtectorError.Unavailable(reason: Self.describe(error, "key generation failed"))
        }
        return key
    }

    private static func describe(_ error: Unmanaged<CFError>?, _ what: String) -> String {
        guard let error = error?.takeRetainedValue() else { return what }
        return "\(what): \(error.localizedDescription)"
    }
}
