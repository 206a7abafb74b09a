import Foundation

/// Asks the user before a linked computer's session starts. `ask` shows the question (an alert or a local
/// notification) on the main queue and calls its completion with the user's answer; `accept` suspends until
/// then. After `timeout` seconds, or when the library cancels the call (the session gave up waiting),
/// `withdraw` takes the question down and the answer is no. Anything but an explicit yes refuses, and the
/// session ends before any request is served.
public final class LinkedSessionAlert: LinkedSessionApprover, @unchecked Sendable {
    private let ask: (String, @escaping (Bool) -> Void) -> Void
    private let withdraw: () -> Void
    private let timeout: TimeInterval

    public init(
        timeout: TimeInterval = 60,
        ask: @escaping (String, @escaping (Bool) -> Void) -> Void,
        withdraw: @escaping () -> Void = {}
    ) {
        self.ask = ask
        self.withdraw = withdraw
        self.timeout = timeout
    }

    /// The question shown for a request from `desktopName`.
    public static func title(for desktopName: String) -> String {
        "Sign in on \(desktopName)?"
    }

    public func accept(desktopName: String) async -> Bool {
        let once = Once<Bool>()
        let title = Self.title(for: desktopName)
        let timer = Task { [timeout] in
            try? await Task.sleep(nanoseconds: UInt64(timeout * 1_000_000_000))
            once.finish(.success(false))
        }
        defer { timer.cancel() }
        let answer = (try? await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                once.start(continuation)
                DispatchQueue.main.async { self.ask(title) { yes in once.finish(.success(yes)) } }
            }
        } onCancel: {
            once.finish(.success(false))
        }) ?? false
        if !answer {
            // Timed out, cancelled or refused: the question must not linger.
            DispatchQueue.main.async { self.withdraw() }
        }
        return answer
    }
}
