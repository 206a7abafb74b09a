import Foundation
import LocalAuthentication

/// A `UserVerifier` on LocalAuthentication: Face ID / Touch ID with the passcode as fallback. The engine calls
/// it on a background thread and it blocks until the user answers (never call it on the main thread).
public final class LocalAuthVerifier: UserVerifier, @unchecked Sendable {
    private let timeout: TimeInterval

    /// - Parameter timeout: seconds to wait for the user before giving up.
    public init(timeout: TimeInterval = 120) {
        self.timeout = timeout
    }

    public func verify(prompt: VerificationPrompt) throws {
        if Thread.isMainThread {
            throw VerificationError.Unavailable(reason: "verify() called on the main thread")
        }
        let context = LAContext()
        var canError: NSError?
        guard context.canEvaluatePolicy(.deviceOwnerAuthentication, error: &canError) else {
            throw VerificationError.Unavailable(reason: canError?.localizedDescription ?? "no passcode is set")
        }
        let done = DispatchSemaphore(value: 0)
        let outcome = Outcome()
        context.evaluatePolicy(.deviceOwnerAuthentication, localizedReason: Self.reason(for: prompt)) { ok, error in
            if !ok { outcome.error = Self.map(error) }
            done.signal()
        }
        if done.wait(timeout: .now() + timeout) == .timedOut {
            context.invalidate()
            throw VerificationError.TimedOut
        }
        if let error = outcome.error { throw error }
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

    private final class Outcome: @unchecked Sendable {
        var error: VerificationError?
    }
}
