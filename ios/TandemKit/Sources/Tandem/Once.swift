import Foundation

/// Hands one answer to a checked continuation, whoever comes first: the user, a timeout or the task's
/// cancellation. An answer that arrives before the continuation is installed is kept for it; every later
/// answer is dropped, so the continuation resumes exactly once.
final class Once<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<Value, Error>?
    private var early: Result<Value, Error>?
    private var finished = false

    /// Installs the continuation (call once, inside `withCheckedThrowingContinuation`).
    func start(_ continuation: CheckedContinuation<Value, Error>) {
        lock.lock()
        if let early {
            self.early = nil
            lock.unlock()
            continuation.resume(with: early)
            return
        }
        self.continuation = continuation
        lock.unlock()
    }

    /// Delivers `result` if nothing was delivered yet; returns whether it was the first.
    @discardableResult
    func finish(_ result: Result<Value, Error>) -> Bool {
        lock.lock()
        guard !finished else {
            lock.unlock()
            return false
        }
        finished = true
        let waiting = continuation
        continuation = nil
        if waiting == nil { early = result }
        lock.unlock()
        waiting?.resume(with: result)
        return true
    }
}
