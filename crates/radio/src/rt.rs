//! A private tokio runtime on its own thread, so the sync edge traits can drive async D-Bus work.
//!
//! The runtime lives on a dedicated thread (not in the caller's runtime) so that the blocking
//! [`RuntimeThread::run`] and dropping the handle are both safe from inside any async context.

use std::future::Future;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::sync::oneshot;

/// Why a job on the runtime thread produced no result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    /// The job did not finish within its time limit.
    #[error("timed out after {0:?}")]
    TimedOut(Duration),
    /// The runtime thread is gone.
    #[error("runtime thread stopped")]
    Stopped,
}

/// Owns a current-thread tokio runtime running on a dedicated OS thread until dropped.
pub(crate) struct RuntimeThread {
    handle: Handle,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl RuntimeThread {
    /// Starts the runtime thread.
    pub(crate) fn start(name: &str) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let handle = runtime.handle().clone();
        let (shutdown, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new().name(name.to_owned()).spawn(move || {
            // Spawned tasks run while this block_on is being driven; dropping the runtime afterwards
            // cancels whatever is left (scan forwarders, D-Bus connection tasks).
            runtime.block_on(async {
                let _ = stopped.await;
            });
        })?;
        Ok(Self {
            handle,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// Runs `job` on the runtime and blocks the calling thread until it finishes or `limit` passes.
    pub(crate) fn run<F, T>(&self, limit: Duration, job: F) -> Result<T, RunError>
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        let (tx, rx) = mpsc::sync_channel(1);
        self.handle.spawn(async move {
            let result = tokio::time::timeout(limit, job).await;
            let _ = tx.send(result);
        });
        // The job carries its own timeout; the extra second only covers a stalled runtime thread.
        match rx.recv_timeout(limit + Duration::from_secs(1)) {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(_)) => Err(RunError::TimedOut(limit)),
            Err(mpsc::RecvTimeoutError::Timeout) => Err(RunError::TimedOut(limit)),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(RunError::Stopped),
        }
    }

    /// Spawns a background task on the runtime.
    pub(crate) fn spawn<F>(&self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.handle.spawn(task);
    }
}

impl Drop for RuntimeThread {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            // Never join from the runtime thread itself (a task dropping the last owner).
            if thread.thread().id() != std::thread::current().id() {
                let _ = thread.join();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_returns_the_job_result() {
        let rt = RuntimeThread::start("rt-test").expect("runtime");
        assert_eq!(rt.run(Duration::from_secs(5), async { 6 * 7 }), Ok(42));
    }

    #[test]
    fn run_times_out_a_stuck_job() {
        let rt = RuntimeThread::start("rt-test").expect("runtime");
        let result = rt.run(Duration::from_millis(50), std::future::pending::<()>());
        assert_eq!(result, Err(RunError::TimedOut(Duration::from_millis(50))));
    }

    #[tokio::test]
    async fn usable_and_droppable_inside_an_async_context() {
        let rt = RuntimeThread::start("rt-test").expect("runtime");
        assert_eq!(rt.run(Duration::from_secs(5), async { "ok" }), Ok("ok"));
        drop(rt);
    }
}
