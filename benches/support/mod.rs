//! What the load benches share: a database to run on.

use diesel::{Connection, RunQueryDsl};

/// Where a bench runs: a fresh database on the PostgreSQL server named by
/// `VIGIE_BENCH_DATABASE_URL` (the role must create databases), dropped afterwards, or a SQLite
/// file in `dir`.
pub struct BenchDatabase {
    pub url: String,
    /// The admin URL and the database's name, on PostgreSQL.
    postgres: Option<(String, String)>,
}

impl BenchDatabase {
    pub fn create(name: &str, dir: &std::path::Path) -> BenchDatabase {
        match std::env::var("VIGIE_BENCH_DATABASE_URL") {
            Ok(admin) if !admin.is_empty() => {
                let name = format!("{name}_{}", std::process::id());
                let mut conn = diesel::pg::PgConnection::establish(&admin).expect("PostgreSQL");
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .unwrap();
                let mut url = url::Url::parse(&admin).unwrap();
                url.set_path(&name);
                BenchDatabase {
                    url: url.to_string(),
                    postgres: Some((admin, name)),
                }
            }
            _ => BenchDatabase {
                url: dir.join("bench.db").to_string_lossy().into_owned(),
                postgres: None,
            },
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }

    /// Drops the PostgreSQL database (call after the app's pool is dropped).
    pub fn drop_database(self) {
        if let Some((admin, name)) = self.postgres {
            let mut conn = diesel::pg::PgConnection::establish(&admin).unwrap();
            diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn)
                .unwrap();
        }
    }
}
