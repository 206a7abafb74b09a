import CryptoKit
import Foundation
import LocalAuthentication
import Security

/// The Secure Enclave key that the engine's UV key is wrapped to (ECIES: X9.63 SHA-256, AES-GCM): a P-256 key
/// whose private half only an `LAContext` that passed Face ID / Touch ID can use (access control
/// `.privateKeyUsage` + `.biometryCurrentSet`, so enrolling another face or finger invalidates it), usable
/// only while the device is unlocked and never leaving this device. On a simulator or a Mac without a Secure
/// Enclave the key lives in the Keychain under the same access control.
public final class SecureEnclaveUvKey: @unchecked Sendable {
    private let tag: Data
    private let accessGroup: String?
    private static let algorithm: SecKeyAlgorithm = .eciesEncryptionCofactorVariableIVX963SHA256AESGCM
    private static let uvKeyLength = 32

    /// - Parameters:
    ///   - tag: Keychain application tag of the key.
    ///   - accessGroup: Keychain access group shared by the app and its extension, if any.
    public init(tag: String = "dev.tandem.uv-key", accessGroup: String? = nil) {
        self.tag = Data(tag.utf8)
        self.accessGroup = accessGroup
    }

    /// With a `context` that just passed biometric evaluation: unwraps `wrapped`, or (when nil, the store's
    /// first verification) creates 32 random bytes, wraps them, and proves the key opens them again.
    func unlock(_ wrapped: Data?, context: LAContext) throws -> UnlockedUvKey {
        if let wrapped {
            let key = try privateKey(context: context, createIfMissing: false)
            return UnlockedUvKey(key: try Self.decrypt(wrapped, with: key), wrappedKey: wrapped)
        }
        let key = try privateKey(context: context, createIfMissing: true)
        guard let publicKey = SecKeyCopyPublicKey(key) else {
            throw VerificationError.Unavailable(reason: "the UV key's Secure Enclave key has no public key")
        }
        var bytes = Data(count: Self.uvKeyLength)
        let status = bytes.withUnsafeMutableBytes { SecRandomCopyBytes(kSecRandomDefault, Self.uvKeyLength, $0.baseAddress!) }
        guard status == errSecSuccess else {
            throw VerificationError.Unavailable(reason: "random number generator failed (OSStatus \(status))")
        }
        var error: Unmanaged<CFError>?
        guard let sealed = SecKeyCreateEncryptedData(publicKey, Self.algorithm, bytes as CFData, &error) else {
            throw VerificationError.Unavailable(reason: Self.describe(error, "ECIES wrap failed"))
        }
        // Encrypting needs only the public key: opening it once proves the authorised context works.
        guard try Self.decrypt(sealed as Data, with: key) == bytes else {
            throw VerificationError.Unavailable(reason: "the new UV key did not unwrap")
        }
        return UnlockedUvKey(key: bytes, wrappedKey: sealed as Data)
    }

    /// Deletes the key (starting over after key loss: whatever it wrapped cannot be recovered).
    public func deleteKey() throws {
        let status = SecItemDelete(baseQuery() as CFDictionary)
        guard status == errSecSuccess || status == errSecItemNotFound else {
            throw VerificationError.Unavailable(reason: "Keychain delete failed (OSStatus \(status))")
        }
    }

    private static func decrypt(_ wrapped: Data, with key: SecKey) throws -> Data {
        var error: Unmanaged<CFError>?
        guard let plain = SecKeyCreateDecryptedData(key, algorithm, wrapped as CFData, &error) else {
            throw VerificationError.Unavailable(reason: describe(error, "the UV key did not unwrap"))
        }
        return plain as Data
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

    private func privateKey(context: LAContext, createIfMissing: Bool) throws -> SecKey {
        var query = baseQuery()
        query[kSecReturnRef as String] = true
        // Operations on the returned key are authorised by this (already evaluated) context, not a new prompt.
        query[kSecUseAuthenticationContext as String] = context
        var item: CFTypeRef?
        let status = SecItemCopyMatching(query as CFDictionary, &item)
        if status == errSecSuccess, let item {
            return item as! SecKey // swiftlint:disable:this force_cast (SecItemCopyMatching returns a SecKey for kSecClassKey)
        }
        guard status == errSecItemNotFound else {
            throw VerificationError.Unavailable(reason: "Keychain lookup failed (OSStatus \(status))")
        }
        guard createIfMissing else {
            // Lost for good, not a transient refusal: the app offers to start over (TandemError.KeyInvalidated).
            throw VerificationError.KeyInvalidated(
                reason: "no Secure Enclave key for the UV key (biometrics changed, or restored from another device): "
                    + "the passkeys on this device can no longer be used")
        }
        return try createKey(context: context)
    }

    private func createKey(context: LAContext) throws -> SecKey {
        var error: Unmanaged<CFError>?
        guard let access = SecAccessControlCreateWithFlags(
            nil, kSecAttrAccessibleWhenUnlockedThisDeviceOnly, [.privateKeyUsage, .biometryCurrentSet], &error
        ) else {
            throw VerificationError.Unavailable(reason: Self.describe(error, "access control"))
        }
        let privateAttributes: [String: Any] = [
            kSecAttrIsPermanent as String: true,
            kSecAttrApplicationTag as String: tag,
            kSecAttrAccessControl as String: access,
            kSecUseAuthenticationContext as String: context,
        ]
        var attributes: [String: Any] = [
            kSecAttrKeyType as String: kSecAttrKeyTypeECSECPrimeRandom,
            kSecAttrKeySizeInBits as String: 256,
            kSecPrivateKeyAttrs as String: privateAttributes,
        ]
        if SecureEnclave.isAvailable {
            attributes[kSecAttrTokenID as String] = kSecAttrTokenIDSecureEnclave
        }
        if let accessGroup { attributes[kSecAttrAccessGroup as String] = accessGroup }
        guard let key = SecKeyCreateRandomKey(attributes as CFDictionary, &error) else {
            throw VerificationError.Unavailable(reason: Self.describe(error, "key generation failed"))
        }
        return key
    }

    private static func describe(_ error: Unmanaged<CFError>?, _ what: String) -> String {
        guard let error = error?.takeRetainedValue() else { return what }
        return "\(what): \(error.localizedDescription)"
    }
}
