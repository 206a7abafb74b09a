import Foundation

/// Asks the user before a linked computer's session starts. `ask` shows the question (an alert or a local
/// notification) and calls its completion with the user's answer; `accept` blocks the session's background
/// thread until then, or refuses after `timeout` seconds. Anything but an explicit yes refuses, and the
/// session ends before any request is served.
public final class LinkedSessionAlert: LinkedSessionApprover {
    private let ask: (String, @escaping (Bool) -> Void) -> Void
    private let timeout: TimeInterval

    public init(timeout: TimeInterval = 60, ask: @escaping (String, @escaping (Bool) -> Void) -> Void) {
        self.ask = ask
        self.timeout = timeout
    }

    /// The question shown for a request from `desktopName`.
    public static func title(for desktopName: String) -> String {
        "Sign in on \(desktopName)?"
    }

    public func accept(desktopName: String) -> Bool {
        let answered = DispatchSemaphore(value: 0)
        let lock = NSLock()
        var accepted = false
        DispatchQueue.main.async {
            self.ask(Self.title(for: desktopName)) { yes in
                lock.lock()
                accepted = yes
                lock.unlock()
                answered.signal()
            }
        }
        guard answered.wait(timeout: .now() + timeout) == .success else { return false }
        lock.lock()
        defer { lock.unlock() }
        return accepted
    }
}
