//! The two migration trees (`migrations/sqlite`, `migrations/postgresql`) hold the same names,
//! each with an `up.sql` and a `down.sql` (see `migrations/README.md`).

use std::collections::BTreeSet;
use std::path::Path;

fn names(backend: &str) -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap())
        .filter(|entry| entry.file_type().unwrap().is_dir())
        .map(|entry| {
            let name = entry.file_name().into_string().unwrap();
            for file in ["up.sql", "down.sql"] {
                assert!(
                    entry.path().join(file).is_file(),
                    "migrations/{backend}/{name} has no {file}"
                );
            }
            name
        })
        .collect()
}

#[test]
fn sqlite_and_postgresql_trees_hold_the_same_migration_names() {
    let sqlite = names("sqlite");
    let postgresql = names("postgresql");
    assert!(!sqlite.is_empty(), "no migrations found");
    let only_sqlite: Vec<_> = sqlite.difference(&postgresql).collect();
    let only_postgresql: Vec<_> = postgresql.difference(&sqlite).collect();
    assert!(
        only_sqlite.is_empty() && only_postgresql.is_empty(),
        "only in migrations/sqlite: {only_sqlite:?}; only in migrations/postgresql: {only_postgresql:?}"
    );
}

#[test]
fn migration_numbers_are_unique() {
    let mut seen = BTreeSet::new();
    for name in names("sqlite") {
        let number = name
            .split('_')
            .next()
            .and_then(|version| version.rsplit('-').next())
            .unwrap_or_else(|| panic!("{name}: not YYYY-MM-DD-NNNNNN_name"))
            .to_owned();
        assert!(
            seen.insert(number.clone()),
            "migration number {number} used twice"
        );
    }
}
