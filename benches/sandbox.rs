//! End-to-end authorizations against the embedded sandbox: authorize → approve → poll →
//! verify, all over loopback HTTP with signed requests. Figures: benches/README.md.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use netid::client::VerificationRequest;
use netid::sandbox::{Persona, Sandbox};

fn end_to_end(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (sandbox, client) = rt.block_on(async {
        let sandbox = Sandbox::start().await.unwrap();
        let app = sandbox.register_app("app_bench");
        let client = sandbox.client_builder(&app).build().unwrap();
        (sandbox, client)
    });
    c.bench_function("sandbox_authorize_approve_poll_verify", |b| {
        b.to_async(&rt).iter(|| async {
            let pending = client
                .authorize(VerificationRequest::age_tag("bench"))
                .await
                .unwrap();
            sandbox.approve(pending.authz_id(), Persona::Adult).unwrap();
            client.wait(&pending).await.unwrap()
        })
    });
}

criterion_group!(benches, end_to_end);
criterion_main!(benches);
