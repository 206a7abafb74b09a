import Foundation
import LocalAuthentication

/// A `UserVerifier` on LocalAuthentication and the Secure Enclave: Face ID / Touch ID authorises an
/// `LAContext`, and only that context can use the Secure Enclave key (access control `.biometryCurrentSet`:
/// invalidated when the enrolled biometrics change) that the engine's UV key is wrapped to. It suspends until
/// the user answers; when the library cancels the call (the request was abandoned) or `timeout` passes, the
/// context is invalidated, which takes the Face ID / Touch ID sheet down.
///
/// Code that fakes the "verified" answer has no authorised context, so the Secure Enclave does not unwrap the
/// key and the engine signs nothing.
public final class LocalAuthVerifier: UserVerifier, @unchecked Sendable {
    private let timeout: TimeInterval
    private let uvKey: SecureEnclaveUvKey

    /// - Parameters:
    ///   - timeout: seconds to wait for the user before giving up.
    ///   - uvKey: the Secure Enclave key the UV key is wrapped to.
    public init(timeout: TimeInterval = 120, uvKey: SecureEnclaveUvKey = SecureEnclaveUvKey()) {
        self.timeout = timeout
        self.uvKey = uvKey
    }

    public func verify(prompt: VerificationPrompt, wrappedKey: Data?) async throws -> UnlockedUvKey {
        let context = LAContext()
        var canError: NSError?
        // Biometrics only: the key's access control (.biometryCurrentSet) accepts nothing else.
        let policy = LAPolicy.deviceOwnerAuthenticationWithBiometrics
        guard context.canEvaluatePolicy(policy, error: &canError) else {
            throw VerificationError.Unavailable(reason: canError?.localizedDescription ?? "no biometric is enrolled")
        }
        let once = Once<Void>()
        let timer = Task { [timeout] in
            try? await Task.sleep(nanoseconds: UInt64(timeout * 1_000_000_000))
            if once.finish(.failure(VerificationError.TimedOut)) { context.invalidate() }
        }
        defer { timer.cancel() }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
                once.start(continuation)
                context.evaluatePolicy(policy, localizedReason: Self.reason(for: prompt)) { ok, error in
                    if ok {
                        once.finish(.success(Void()))
                    } else {
                        once.finish(.failure(Self.map(error)))
                    }
                }
            }
        } onCancel: {
            if once.finish(.failure(VerificationError.Cancelled)) { context.invalidate() }
        }
        // The evaluated context is what authorises the Secure Enclave key for this unwrap.
        return try uvKey.unlock(wrappedKey, context: context)
    }

    /// The sentence iOS shows under the Face ID / passcode prompt: the title built in Rust from the RP ID
    /// (`VerificationPrompt::title`), then the account with the RP's claimed name beside it.
    static func reason(for prompt: VerificationPrompt) -> String {
        prompt.title + (prompt.subtitle.map { " (\($0))" } ?? "")
    }

    /// Maps a LocalAuthentication failure to the engine's verification outcome.
    static func map(_ error: Error?) -> VerificationError {
        guard let error = error as? LAError else {
            return .Unavailable(reason: error?.localizedDescription ?? "unknown LocalAuthentication failure")
        }
        switch error.code {
        case .userCancel, .systemCancel, .appCancel:
            return .Cancelled
        case .authenticationFailed, .userFallback:
            return .Denied
        default:
            return .Unavailable(reason: "\(error.localizedDescription) (LAError \(error.code.rawValue))")
        }
    }
}
