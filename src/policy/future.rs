//! The future of a layer in front of the gate, for frameworks built on futures (tower): the
//! handler's own future when [`Gate::decide_now`](super::Gate::decide_now) let the request
//! through at once, without a box, else a boxed one.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A boxed answer: a refusal, or the handler's once the gate waited on the stores.
type Boxed<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

pin_project_lite::pin_project! {
    /// The future of a layer around a handler whose future is `F`, answering `Result<T, E>`:
    /// the handler's own when the request could be let through without waiting (a remembered
    /// session, no body to read, no consent to look up — most requests), else a boxed one (a
    /// refusal, or one that first waits on the stores). The axum adapter's `NetIdFuture`.
    pub struct GateFuture<F, T, E> {
        #[pin]
        state: State<F, T, E>,
    }
}

pin_project_lite::pin_project! {
    #[project = StateProj]
    enum State<F, T, E> {
        // Decided at once; the handler runs.
        Direct { #[pin] inner: F },
        // Refused at once, or waiting on the session store, the body or the consent ledger.
        Waiting { inner: Boxed<T, E> },
    }
}

impl<F, T, E> GateFuture<F, T, E> {
    /// The handler's own future, passed through.
    #[cfg(feature = "axum")]
    pub(crate) fn direct(inner: F) -> Self {
        Self {
            state: State::Direct { inner },
        }
    }

    /// A boxed future.
    #[cfg(feature = "axum")]
    pub(crate) fn waiting(inner: Boxed<T, E>) -> Self {
        Self {
            state: State::Waiting { inner },
        }
    }
}

impl<F, T, E> Future for GateFuture<F, T, E>
where
    F: Future<Output = Result<T, E>>,
{
    type Output = Result<T, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Direct { inner } => inner.poll(cx),
            StateProj::Waiting { inner } => inner.as_mut().poll(cx),
        }
    }
}
