import AuthenticationServices
import Foundation
import os
import Tandem

/// What the app and its credential-provider extension share: one credential database in the app group
/// container, its data key wrapped by a Secure Enclave key in the shared keychain access group, and the
/// passkeys published to the system's credential identity store.
enum TandemShared {
    /// App group holding the database (must match both targets' entitlements in project.yml).
    static let appGroup = "group.dev.tandem"
    /// The shared keychain access group without its team prefix. Both targets' entitlements list
    /// `$(AppIdentifierPrefix)dev.tandem.shared`; without one group each target would make its own Secure
    /// Enclave keys, and whichever opened the database second could not unwrap its data key.
    static let keychainGroupSuffix = "dev.tandem.shared"
    /// The Info.plist key Xcode fills with `$(AppIdentifierPrefix)` (the team ID and a dot) at build time.
    static let prefixInfoKey = "TandemAppIdentifierPrefix"

    private static let log = Logger(subsystem: "dev.tandem", category: "shared")

    /// The shared keychain access group, team prefix included (iOS requires it in kSecAttrAccessGroup). The
    /// prefix is read from this bundle's Info.plist rather than written here, so a build signed by another team
    /// still finds its own group.
    static func keychainGroup() throws -> String {
        guard let prefix = Bundle.main.object(forInfoDictionaryKey: prefixInfoKey) as? String,
              isTeamPrefix(prefix) else {
            throw TandemError.InvalidInput(
                reason: "Info.plist \(prefixInfoKey) is not a team prefix (set it to $(AppIdentifierPrefix))")
        }
        return prefix + keychainGroupSuffix
    }

    /// A team prefix is ten upper-case letters or digits and a dot; an unexpanded `$(AppIdentifierPrefix)`
    /// (unsigned build) is not.
    static func isTeamPrefix(_ prefix: String) -> Bool {
        prefix.count == 11 && prefix.hasSuffix(".")
            && prefix.dropLast().allSatisfy { $0.isASCII && ($0.isUppercase || $0.isNumber) }
    }

    static func databaseURL() throws -> URL {
        guard let container = FileManager.default.containerURL(forSecurityApplicationGroupIdentifier: appGroup) else {
            throw TandemError.InvalidInput(reason: "app group \(appGroup) is not configured")
        }
        return container.appendingPathComponent("tandem-credentials.db")
    }

    /// Opens the shared store. Every store call is `async` and runs on the core's own threads (SQLite, the
    /// Secure Enclave unwrap), so callers on the main actor never wait on disk or the Keychain.
    static func openStore() async throws -> CredentialStore {
        try await CredentialStore.open(path: databaseURL().path,
                                       protector: SecureEnclaveKeyProtector(accessGroup: keychainGroup()))
    }

    /// After `TandemError.KeyInvalidated` and the user's yes: deletes the database and the dead wrapping key,
    /// so the next `openStore()` starts empty with a fresh key.
    static func startOver() async throws {
        let group = try keychainGroup()
        try await SecureEnclaveKeyProtector(accessGroup: group).resetAfterKeyLoss(storePath: databaseURL().path)
        try SecureEnclaveUvKey(accessGroup: group).deleteKey()
    }

    /// An engine over the shared store that asks Face ID / Touch ID before every signature; the answer unlocks
    /// the UV key through the Secure Enclave key the app and its extension share.
    static func authenticator(store: CredentialStore) throws -> Authenticator {
        try Authenticator(store: store,
                          verifier: LocalAuthVerifier(uvKey: SecureEnclaveUvKey(accessGroup: keychainGroup())),
                          chooser: OnlyAccount(),
                          options: AuthenticatorOptions(aaguid: Data(), backup: .deviceBound))
    }

    /// Replaces the passkeys the system offers (QuickType bar, passkey sheet) with the store's, as chosen by
    /// the core (`passkeyIdentities`): deleted passkeys disappear, missed saves are repaired. Call on app
    /// launch, after deletes and after a registration. Never throws: a failed sync only leaves the system's
    /// list stale until the next one, and must not undo the work that triggered it. Returns whether it synced.
    @discardableResult
    static func syncCredentialIdentities() async -> Bool {
        let identities: [PasskeyIdentity]
        do {
            identities = try await TandemShared.openStore().passkeyIdentities()
        } catch {
            log.error("identity sync: cannot read the store: \(String(describing: error), privacy: .public)")
            return false
        }
        let store = ASCredentialIdentityStore.shared
        let state = await withCheckedContinuation { (done: CheckedContinuation<ASCredentialIdentityStoreState, Never>) in
            store.getState { done.resume(returning: $0) }
        }
        guard state.isEnabled else {
            // Tandem is not turned on in Settings › Passwords › Password Options: nothing may be saved yet.
            log.info("identity sync skipped: the credential identity store is not enabled for Tandem")
            return false
        }
        let records: [any ASCredentialIdentity] = identities.map { identity -> any ASCredentialIdentity in
            ASPasskeyCredentialIdentity(relyingPartyIdentifier: identity.rpId,
                                        userName: identity.userName,
                                        credentialID: identity.credentialId,
                                        userHandle: identity.userHandle,
                                        recordIdentifier: identity.recordIdentifier)
        }
        do {
            try await store.replaceCredentialIdentities(records)
            log.info("identity sync: \(records.count) passkeys published")
            return true
        } catch {
            log.error("identity sync failed: \(String(describing: error), privacy: .public)")
            return false
        }
    }
}

/// The extension signs with one credential the user already picked (in the system sheet or in its own list),
/// passed as the only allowCredentials entry, so exactly one account matches. More than one would mean the
/// request was not narrowed: refuse rather than guess.
final class OnlyAccount: AccountChooser, @unchecked Sendable {
    func choose(rpId: String, accounts: [AccountInfo]) async -> UInt32? { accounts.count == 1 ? 0 : nil }
}
