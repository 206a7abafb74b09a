import AuthenticationServices
import Tandem

/// iOS 17 credential-provider extension: creates and uses passkeys in the Tandem store through the same core
/// as the Android app, asking Face ID / Touch ID (LocalAuthVerifier) before every signature.
///
/// Caller checks: the requests come from AuthenticationServices, which is the WebAuthn client here. It has
/// already bound the request to the RP (a browser's page origin, or an app's Associated Domains entitlement
/// `webcredentials:<rp id>` verified against the site's apple-app-site-association) and computed the
/// clientDataHash, so the extension passes `.osVerified` and the core honours that hash. The Android-style
/// checks (allowlist, apk-key-hash origin, Digital Asset Links) do not apply on iOS.
final class CredentialProviderViewController: ASCredentialProviderViewController {
    // MARK: Registration

    override func prepareInterface(forPasskeyRegistration registrationRequest: ASCredentialRequest) {
        guard let request = registrationRequest as? ASPasskeyCredentialRequest,
              let identity = request.credentialIdentity as? ASPasskeyCredentialIdentity else {
            return fail(.failed)
        }
        let options = WebAuthnOptions.creation(
            rpId: identity.relyingPartyIdentifier,
            userName: identity.userName,
            userHandle: identity.userHandle,
            algorithms: request.supportedAlgorithms.map { Int($0.rawValue) },
            challenge: request.clientDataHash
        )
        Task {
            do {
                let store = try TandemShared.openStore()
                let result = try await TandemShared.authenticator(store: store)
                    .register(optionsJson: options, caller: .osVerified(clientDataHash: request.clientDataHash))
                let credential = ASPasskeyRegistrationCredential(
                    relyingParty: identity.relyingPartyIdentifier,
                    clientDataHash: request.clientDataHash,
                    credentialID: result.credentialId,
                    attestationObject: result.attestationObject
                )
                let saved = ASPasskeyCredentialIdentity(
                    relyingPartyIdentifier: identity.relyingPartyIdentifier,
                    userName: identity.userName,
                    credentialID: result.credentialId,
                    userHandle: identity.userHandle,
                    recordIdentifier: nil
                )
                try await ASCredentialIdentityStore.shared.saveCredentialIdentities([saved])
                await extensionContext.completeRegistrationRequest(using: credential)
            } catch {
                fail(Self.code(for: error))
            }
        }
    }

    // MARK: Assertion

    override func provideCredentialWithoutUserInteraction(for credentialRequest: ASCredentialRequest) {
        // Every signature needs user verification, which needs UI.
        fail(.userInteractionRequired)
    }

    override func prepareInterfaceToProvideCredential(for credentialRequest: ASCredentialRequest) {
        guard let request = credentialRequest as? ASPasskeyCredentialRequest,
              let identity = request.credentialIdentity as? ASPasskeyCredentialIdentity else {
            return fail(.failed)
        }
        assert(rpId: identity.relyingPartyIdentifier, allow: [identity.credentialID], clientDataHash: request.clientDataHash)
    }

    override func prepareCredentialList(for serviceIdentifiers: [ASCredentialServiceIdentifier],
                                        requestParameters: ASPasskeyCredentialRequestParameters) {
        // The system sheet did not pick a credential: let the engine choose among the RP's passkeys.
        assert(rpId: requestParameters.relyingPartyIdentifier,
               allow: requestParameters.allowedCredentials,
               clientDataHash: requestParameters.clientDataHash)
    }

    private func assert(rpId: String, allow: [Data], clientDataHash: Data) {
        let options = WebAuthnOptions.request(rpId: rpId, allow: allow, challenge: clientDataHash)
        Task {
            do {
                let store = try TandemShared.openStore()
                let result = try await TandemShared.authenticator(store: store)
                    .authenticate(optionsJson: options, caller: .osVerified(clientDataHash: clientDataHash))
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
                fail(Self.code(for: error))
            }
        }
    }

    // MARK: Errors

    private func fail(_ code: ASExtensionError.Code) {
        extensionContext.cancelRequest(withError: ASExtensionError(code))
    }

    private static func code(for error: Error) -> ASExtensionError.Code {
        switch error {
        case TandemError.Ctap(let status, _) where status == 0x27:
            return .userCanceled
        case TandemError.Ctap(let status, _) where status == 0x2E:
            return .credentialIdentityNotFound
        default:
            // Including TandemError.CallerRefused (cannot happen for .osVerified callers).
            return .failed
        }
    }
}
