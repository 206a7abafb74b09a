import AuthenticationServices
import os
import SwiftUI
import Tandem
import UIKit

/// iOS 17 credential-provider extension: creates and uses passkeys in the Tandem store through the same core
/// as the Android app, asking Face ID / Touch ID (LocalAuthVerifier) before every signature.
///
/// The decisions live in the core, where they are tested: which accounts to offer (`accountChoices`), what a
/// request without UI answers (`silentAssertionOutcome`), how a failure is reported (`extensionOutcome`) and
/// which passkeys the system lists (`passkeyIdentities`, through `TandemShared.syncCredentialIdentities`).
/// This class only moves values between AuthenticationServices and those functions. Store and engine calls
/// are async and run on the core's own threads, never on the main actor.
///
/// Caller checks: the requests come from AuthenticationServices, which is the WebAuthn client here. It has
/// already bound the request to the RP (a browser's page origin, or an app's Associated Domains entitlement
/// `webcredentials:<rp id>` verified against the site's apple-app-site-association) and computed the
/// clientDataHash, so the extension passes `.osVerified` and the core honours that hash. The Android-style
/// checks (allowlist, apk-key-hash origin, Digital Asset Links) do not apply on iOS.
final class CredentialProviderViewController: ASCredentialProviderViewController {
    private static let log = Logger(subsystem: "dev.tandem", category: "extension")
    /// The request in flight, cancelled (dropping the core's future and its prompt) if the sheet goes away.
    private var work: Task<Void, Never>?
    /// Set once the user picked an account in the list, so a second tap does not start a second ceremony.
    private var picked = false

    override func viewDidDisappear(_ animated: Bool) {
        super.viewDidDisappear(animated)
        work?.cancel()
    }

    // MARK: Registration

    override func prepareInterface(forPasskeyRegistration registrationRequest: ASCredentialRequest) {
        guard let request = registrationRequest as? ASPasskeyCredentialRequest,
              let identity = request.credentialIdentity as? ASPasskeyCredentialIdentity else {
            return cancel(.failed)
        }
        let rpId = identity.relyingPartyIdentifier
        let clientDataHash = request.clientDataHash
        var exclude: [Data] = []
        if #available(iOS 18.0, *) {
            exclude = request.excludedCredentials?.map { $0.credentialID } ?? []
        }
        let options = WebAuthnOptions.creation(
            rpId: rpId,
            userName: identity.userName,
            userHandle: identity.userHandle,
            algorithms: request.supportedAlgorithms.map { Int($0.rawValue) },
            challenge: clientDataHash,
            exclude: exclude
        )
        work = Task {
            let credential: ASPasskeyRegistrationCredential
            do {
                let engine = try await Self.openEngine()
                let result = try await engine.register(optionsJson: options,
                                                       caller: .osVerified(clientDataHash: clientDataHash))
                credential = ASPasskeyRegistrationCredential(
                    relyingParty: rpId,
                    clientDataHash: clientDataHash,
                    credentialID: result.credentialId,
                    attestationObject: result.attestationObject
                )
            } catch {
                return cancel(Self.outcome(for: error))
            }
            // The passkey exists from here on: publishing it to the system is best effort (logged, repaired by
            // the next sync) and never turns this registration into a failure.
            await TandemShared.syncCredentialIdentities()
            await extensionContext.completeRegistrationRequest(using: credential)
        }
    }

    // MARK: Assertion

    override func provideCredentialWithoutUserInteraction(for credentialRequest: ASCredentialRequest) {
        guard let request = credentialRequest as? ASPasskeyCredentialRequest,
              let identity = request.credentialIdentity as? ASPasskeyCredentialIdentity else {
            return cancel(.failed)
        }
        let rpId = identity.relyingPartyIdentifier
        let credentialId = identity.credentialID
        work = Task {
            let outcome: ExtensionOutcome
            do {
                let credentials = try await TandemShared.openStore().list()
                outcome = silentAssertionOutcome(credentials: credentials, rpId: rpId, credentialId: credentialId)
            } catch {
                outcome = silentFailureOutcome(error: Self.tandemError(error))
            }
            if outcome == .credentialIdentityNotFound {
                // The system offered a passkey the store no longer has: correct its list.
                await TandemShared.syncCredentialIdentities()
            }
            cancel(outcome)
        }
    }

    override func prepareInterfaceToProvideCredential(for credentialRequest: ASCredentialRequest) {
        guard let request = credentialRequest as? ASPasskeyCredentialRequest,
              let identity = request.credentialIdentity as? ASPasskeyCredentialIdentity else {
            return cancel(.failed)
        }
        // The user picked this passkey in the system sheet: sign with it and nothing else.
        signIn(rpId: identity.relyingPartyIdentifier, credentialId: identity.credentialID,
               clientDataHash: request.clientDataHash)
    }

    override func prepareCredentialList(for serviceIdentifiers: [ASCredentialServiceIdentifier],
                                        requestParameters: ASPasskeyCredentialRequestParameters) {
        // The user picked Tandem, not a passkey: show the RP's accounts and sign with the one they choose.
        let rpId = requestParameters.relyingPartyIdentifier
        let allowed = requestParameters.allowedCredentials
        let clientDataHash = requestParameters.clientDataHash
        work = Task {
            let choices: [AccountChoice]
            do {
                let credentials = try await TandemShared.openStore().list()
                choices = accountChoices(credentials: credentials, rpId: rpId, allowCredentials: allowed)
            } catch {
                return cancel(Self.outcome(for: error))
            }
            guard !choices.isEmpty else { return cancel(.credentialIdentityNotFound) }
            host(AccountListView(rpId: rpId, choices: choices, onChoose: { [weak self] choice in
                guard let self, !self.picked else { return }
                self.picked = true
                self.signIn(rpId: rpId, credentialId: choice.credentialId, clientDataHash: clientDataHash)
            }, onCancel: { [weak self] in
                self?.cancel(extensionOutcome(error: .Cancelled))
            }))
        }
    }

    private func signIn(rpId: String, credentialId: Data, clientDataHash: Data) {
        let options = WebAuthnOptions.request(rpId: rpId, allow: [credentialId], challenge: clientDataHash)
        work = Task {
            do {
                let engine = try await Self.openEngine()
                let result = try await engine.authenticate(optionsJson: options,
                                                           caller: .osVerified(clientDataHash: clientDataHash))
                let credential = ASPasskeyAssertionCredential(
                    userHandle: result.userHandle ?? Data(),
                    relyingParty: rpId,
                    signature: result.signature,
                    clientDataHash: clientDataHash,
                    authenticatorData: result.authenticatorData,
                    credentialID: result.credentialId
                )
                await extensionContext.completeAssertionRequest(using: credential)
            } catch {
                let outcome = Self.outcome(for: error)
                if outcome == .credentialIdentityNotFound {
                    await TandemShared.syncCredentialIdentities()
                }
                cancel(outcome)
            }
        }
    }

    // MARK: Plumbing

    /// Opens the shared store and an engine over it.
    private static func openEngine() async throws -> Authenticator {
        try TandemShared.authenticator(store: await TandemShared.openStore())
    }

    /// Puts a SwiftUI view in the extension's sheet.
    private func host(_ content: some View) {
        let host = UIHostingController(rootView: content)
        addChild(host)
        host.view.frame = view.bounds
        host.view.autoresizingMask = [.flexibleWidth, .flexibleHeight]
        view.addSubview(host.view)
        host.didMove(toParent: self)
    }

    private func cancel(_ outcome: ExtensionOutcome) {
        if outcome == .failed { Self.log.error("request failed") }
        extensionContext.cancelRequest(withError: ASExtensionError(Self.code(for: outcome)))
    }

    /// Any error as the core's type: a cancelled Swift task (the sheet went away) is a cancel; anything that
    /// is not the core's is an internal failure.
    private static func tandemError(_ error: Error) -> TandemError {
        if let error = error as? TandemError { return error }
        if error is CancellationError { return .Cancelled }
        return .Internal(reason: String(describing: error))
    }

    private static func outcome(for error: Error) -> ExtensionOutcome {
        let error = tandemError(error)
        log.error("request ended: \(String(describing: error), privacy: .public)")
        return extensionOutcome(error: error)
    }

    /// The `ASExtensionError.Code` of the same name; `.matchedExcludedCredential` exists from iOS 18 only.
    private static func code(for outcome: ExtensionOutcome) -> ASExtensionError.Code {
        switch outcome {
        case .userCanceled: return .userCanceled
        case .credentialIdentityNotFound: return .credentialIdentityNotFound
        case .userInteractionRequired: return .userInteractionRequired
        case .failed: return .failed
        case .matchedExcludedCredential:
            if #available(iOS 18.0, *) { return .matchedExcludedCredential }
            return .failed
        }
    }
}
