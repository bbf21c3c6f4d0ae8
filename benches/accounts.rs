//! Sign-in's password check: a wrong password for an account, and an unknown e-mail (checked
//! against the dummy hash), must cost the same, so that timing does not tell which e-mails have
//! accounts. argon2 is optimised in every profile (Cargo.toml), so a dev build measures it too.
//!
//! cargo bench --bench accounts

use criterion::{criterion_group, criterion_main, Criterion};
use vigie::domain::accounts::{verify_password, NewPassword};

fn sign_in_checks(c: &mut Criterion) {
    let stored = NewPassword::parse("password", "le phare de la vigie 1903".into())
        .unwrap()
        .hash();
    // The dummy hash is made on first use: not inside the measurement.
    verify_password(None, "warm-up");
    let mut group = c.benchmark_group("sign_in_password_check");
    group.sample_size(30);
    group.bench_function("wrong_password", |b| {
        b.iter(|| verify_password(Some(&stored), "pas le bon mot de passe"))
    });
    group.bench_function("unknown_email", |b| {
        b.iter(|| verify_password(None, "pas le bon mot de passe"))
    });
    group.bench_function("right_password", |b| {
        b.iter(|| verify_password(Some(&stored), "le phare de la vigie 1903"))
    });
    group.finish();
}

criterion_group!(benches, sign_in_checks);
criterion_main!(benches);
