//! Tells the tests whether a PostgreSQL server was configured when they were built, so that the
//! PostgreSQL variants show as `ignored` in cargo's summary instead of passing without testing
//! anything (`cfg(vigie_postgres)`, used by `on_both_backends!` and the cluster tests).
//!
//! `VIGIE_REQUIRE_POSTGRES=1` turns the variants on too, so that a missing
//! `VIGIE_TEST_DATABASE_URL` fails them (CI) rather than hiding them.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(vigie_postgres)");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=VIGIE_TEST_DATABASE_URL");
    println!("cargo::rerun-if-env-changed=VIGIE_REQUIRE_POSTGRES");
    let configured = std::env::var("VIGIE_TEST_DATABASE_URL").is_ok_and(|v| !v.is_empty());
    let required = std::env::var("VIGIE_REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
    if configured || required {
        println!("cargo::rustc-cfg=vigie_postgres");
    }
}
