import CryptoKit
import Foundation
import XCTest
@testable import Tandem

/// Runs on a Mac (`swift test` in ios/TandemKit after building the XCFramework): the store and the engine
/// through the Swift bindings, checked with CryptoKit.
final class TandemTests: XCTestCase {
    /// Unlocks a fixed UV key (a software stand-in for the Secure Enclave: "wrapped" is the key itself).
    final class Approve: UserVerifier, @unchecked Sendable {
        func verify(prompt: VerificationPrompt, wrappedKey: Data?) async throws -> UnlockedUvKey {
            let key = Data(repeating: 0x75, count: 32)
            return UnlockedUvKey(key: key, wrappedKey: wrappedKey ?? key)
        }
    }

    final class Refuse: UserVerifier, @unchecked Sendable {
        func verify(prompt: VerificationPrompt, wrappedKey: Data?) async throws -> UnlockedUvKey {
            throw VerificationError.Denied
        }
    }

    final class First: AccountChooser, @unchecked Sendable {
        func choose(rpId: String, accounts: [AccountInfo]) async -> UInt32? { 0 }
    }

    private func engine(_ verifier: UserVerifier, store: CredentialStore) throws -> Authenticator {
        try Authenticator(store: store, verifier: verifier, chooser: First(),
                          options: AuthenticatorOptions(aaguid: Data(), backup: .deviceBound))
    }

    func testRegisterAndSignInVerifyWithCryptoKit() async throws {
        let store = try await CredentialStore.openInMemory(protector: SoftwareKeyProtector())
        let auth = try engine(Approve(), store: store)
        let createHash = Data(SHA256.hash(data: Data("create".utf8)))
        let options = WebAuthnOptions.creation(rpId: "example.com", userName: "alice", userHandle: Data([1, 2, 3]),
                                               algorithms: [-7], challenge: Data([9]))
        let reg = try await auth.register(optionsJson: options, caller: .osVerified(clientDataHash: createHash))
        let listed = try await store.list()
        XCTAssertEqual(listed.count, 1)

        let getHash = Data(SHA256.hash(data: Data("get".utf8)))
        let request = WebAuthnOptions.request(rpId: "example.com", allow: [reg.credentialId], challenge: Data([7]))
        let assertion = try await auth.authenticate(optionsJson: request, caller: .osVerified(clientDataHash: getHash))
        let key = try P256.Signing.PublicKey(derRepresentation: reg.publicKeySpkiDer)
        let signature = try P256.Signing.ECDSASignature(derRepresentation: assertion.signature)
        XCTAssertTrue(key.isValidSignature(signature, for: assertion.authenticatorData + getHash))
    }

    func testRefusalIsATypedCtapError() async throws {
        let store = try await CredentialStore.openInMemory(protector: SoftwareKeyProtector())
        let auth = try engine(Refuse(), store: store)
        let options = WebAuthnOptions.creation(rpId: "example.com", userName: "bob", userHandle: Data([4]),
                                               algorithms: [-7], challenge: Data([1]))
        do {
            _ = try await auth.register(optionsJson: options, caller: .osVerified(clientDataHash: Data(count: 32)))
            XCTFail("registration must fail")
        } catch TandemError.Ctap(let status, _) {
            XCTAssertEqual(status, .operationDenied)
        }
    }

    func testBadInputIsInvalidInput() async throws {
        let store = try await CredentialStore.openInMemory(protector: SoftwareKeyProtector())
        do {
            try await store.delete(credentialId: Data())
            XCTFail("an empty credential ID must be refused")
        } catch TandemError.InvalidInput {
        }
        let auth = try engine(Approve(), store: store)
        do {
            _ = try await auth.register(optionsJson: "{", caller: .osVerified(clientDataHash: Data(count: 32)))
            XCTFail("must fail")
        } catch TandemError.InvalidInput {
        }
    }

    func testSoftwareProtectorRejectsTampering() throws {
        let protector = SoftwareKeyProtector()
        var wrapped = try protector.wrap(dataKey: Data(repeating: 5, count: 32))
        XCTAssertEqual(try protector.unwrap(wrapped: wrapped), Data(repeating: 5, count: 32))
        wrapped[wrapped.count - 1] ^= 1
        XCTAssertThrowsError(try protector.unwrap(wrapped: wrapped))
    }

    /// What the extension does on iOS 18: the account's credential in `exclude` stops a second registration, and
    /// the core maps the refusal to `.matchedExcludedCredential`.
    func testExcludedCredentialIsRefusedAndMapped() async throws {
        let store = try await CredentialStore.openInMemory(protector: SoftwareKeyProtector())
        let auth = try engine(Approve(), store: store)
        let hash = Data(count: 32)
        let first = try await auth.register(
            optionsJson: WebAuthnOptions.creation(rpId: "example.com", userName: "eve", userHandle: Data([5]),
                                                  algorithms: [-7], challenge: Data([1])),
            caller: .osVerified(clientDataHash: hash))
        let again = WebAuthnOptions.creation(rpId: "example.com", userName: "eve", userHandle: Data([5]),
                                             algorithms: [-7], challenge: Data([2]), exclude: [first.credentialId])
        do {
            _ = try await auth.register(optionsJson: again, caller: .osVerified(clientDataHash: hash))
            XCTFail("an excluded credential must refuse the registration")
        } catch let error as TandemError {
            XCTAssertEqual(extensionOutcome(error: error), .matchedExcludedCredential)
        }
        let listed = try await store.list()
        XCTAssertEqual(listed.count, 1)
        let published = try await store.passkeyIdentities()
        XCTAssertEqual(published.map(\.credentialId), [first.credentialId])
    }

    /// Never answers; records that its task was cancelled (what dismisses the Face ID sheet in
    /// LocalAuthVerifier).
    final class Unanswered: UserVerifier, @unchecked Sendable {
        let cancelled = XCTestExpectation(description: "the prompt's task was cancelled")
        let shown = XCTestExpectation(description: "the prompt was shown")
        func verify(prompt: VerificationPrompt, wrappedKey: Data?) async throws -> UnlockedUvKey {
            shown.fulfill()
            await withTaskCancellationHandler {
                while !Task.isCancelled { try? await Task.sleep(nanoseconds: 10_000_000) }
            } onCancel: {
                self.cancelled.fulfill()
            }
            throw VerificationError.Cancelled
        }
    }

    /// Cancelling the task awaiting `register` cancels the verifier's task and stores nothing.
    func testCancellingARegistrationCancelsThePrompt() async throws {
        let store = try await CredentialStore.openInMemory(protector: SoftwareKeyProtector())
        let verifier = Unanswered()
        let auth = try engine(verifier, store: store)
        let options = WebAuthnOptions.creation(rpId: "example.com", userName: "zoe", userHandle: Data([6]),
                                               algorithms: [-7], challenge: Data([3]))
        let call = Task { try await auth.register(optionsJson: options, caller: .osVerified(clientDataHash: Data(count: 32))) }
        await fulfillment(of: [verifier.shown], timeout: 10)
        call.cancel()
        await fulfillment(of: [verifier.cancelled], timeout: 10)
        let listed = try await store.list()
        XCTAssertEqual(listed.count, 0)
    }
}
