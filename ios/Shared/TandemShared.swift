import Foundation
import Tandem

/// What the app and its credential-provider extension share: one credential database in the app group
/// container, its data key wrapped by the Secure Enclave key in the shared keychain access group.
enum TandemShared {
    /// App group holding the database (must match both targets' entitlements).
    static let appGroup = "group.dev.tandem"
    /// Keychain access group of the wrapping key (team prefix added by the entitlement).
    static let keychainGroup: String? = nil

    static func databaseURL() throws -> URL {
        guard let container = FileManager.default.containerURL(forSecurityApplicationGroupIdentifier: appGroup) else {
            throw TandemError.InvalidInput(reason: "app group \(appGroup) is not configured")
        }
        return container.appendingPathComponent("tandem-credentials.db")
    }

    static func openStore() throws -> CredentialStore {
        try CredentialStore.open(path: databaseURL().path,
                                 protector: SecureEnclaveKeyProtector(accessGroup: keychainGroup))
    }

    /// After `TandemError.KeyInvalidated` and the user's yes: deletes the database and the dead wrapping key,
    /// so the next `openStore()` starts empty with a fresh key.
    static func startOver() throws {
        try SecureEnclaveKeyProtector(accessGroup: keychainGroup).resetAfterKeyLoss(storePath: databaseURL().path)
        try SecureEnclaveUvKey(accessGroup: keychainGroup).deleteKey()
    }

    /// An engine over the shared store that asks Face ID / Touch ID before every signature; the answer unlocks
    /// the UV key through the Secure Enclave key the app and its extension share.
    static func authenticator(store: CredentialStore) throws -> Authenticator {
        try Authenticator(store: store,
                          verifier: LocalAuthVerifier(uvKey: SecureEnclaveUvKey(accessGroup: keychainGroup)),
                          chooser: FirstAccount(),
                          options: AuthenticatorOptions(aaguid: Data(), backup: .deviceBound))
    }
}

/// The extension always knows which credential the user picked in the system sheet, so one match is the norm;
/// if several match, the newest wins.
final class FirstAccount: AccountChooser, @unchecked Sendable {
    func choose(rpId: String, accounts: [AccountInfo]) -> UInt32? { accounts.isEmpty ? nil : 0 }
}
