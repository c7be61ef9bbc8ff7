//! The two migration trees, `migrations/sqlite` and `migrations/postgres`, stay in
//! step: the same versions, and the same tables, columns and indexes (types aside,
//! which is where the dialects differ); and the database a test runs on has exactly
//! the columns the migrations say.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use rocket_auth::db::Backend;

use crate::common::TestApp;

/// Every table's columns, and every index, that a tree of migrations creates.
#[derive(Debug, Default, PartialEq, Eq)]
struct Schema {
    tables: BTreeMap<String, BTreeSet<String>>,
    indexes: BTreeSet<String>,
}

fn strip_comments(sql: &str) -> String {
    sql.lines().map(|l| l.split("--").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

/// Reads the statements this project's migrations use: `CREATE TABLE name (…)`,
/// `ALTER TABLE name ADD COLUMN column …`, `CREATE [UNIQUE] INDEX name ON …`.
fn parse(sql: &str, schema: &mut Schema) {
    for statement in strip_comments(sql).split(';') {
        let words: Vec<&str> = statement.split_whitespace().collect();
        let upper: Vec<String> = words.iter().map(|w| w.to_ascii_uppercase()).collect();
        match upper.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
            ["CREATE", "TABLE", ..] => {
                let name = words[2].trim_end_matches('(').to_string();
                let body = &statement[statement.find('(').unwrap() + 1..statement.rfind(')').unwrap()];
                let mut depth = 0;
                let mut part = String::new();
                let mut columns = BTreeSet::new();
                for c in body.chars().chain([',']) {
                    match c {
                        '(' => depth += 1,
                        ')' => depth -= 1,
                        ',' if depth == 0 => {
                            let first = part.split_whitespace().next().unwrap_or("").to_string();
                            let keyword = ["PRIMARY", "UNIQUE", "FOREIGN", "CHECK", "CONSTRAINT"]
                                .contains(&first.to_ascii_uppercase().as_str());
                            if !first.is_empty() && !keyword {
                                columns.insert(first);
                            }
                            part.clear();
                            continue;
                        }
                        _ => {}
                    }
                    part.push(c);
                }
                assert!(schema.tables.insert(name.clone(), columns).is_none(), "{name} created twice");
            }
            ["ALTER", "TABLE", _, "ADD", "COLUMN", ..] => {
                let table =
                    schema.tables.get_mut(words[2]).unwrap_or_else(|| panic!("no table {}", words[2]));
                table.insert(words[5].to_string());
            }
            ["CREATE", "INDEX", ..] => {
                schema.indexes.insert(words[2].to_string());
            }
            ["CREATE", "UNIQUE", "INDEX", ..] => {
                schema.indexes.insert(words[3].to_string());
            }
            [] => {}
            other => panic!("a migration statement this test does not read: {other:?}"),
        }
    }
}

fn tree(backend: &str) -> (Vec<String>, Schema) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(backend);
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut schema = Schema::default();
    for file in &files {
        parse(&std::fs::read_to_string(dir.join(file)).unwrap(), &mut schema);
    }
    (files, schema)
}

#[test]
fn both_trees_have_the_same_versions_tables_columns_and_indexes() {
    let (sqlite_files, sqlite) = tree("sqlite");
    let (postgres_files, postgres) = tree("postgres");
    assert_eq!(sqlite_files, postgres_files, "the same migrations, by version and name");
    assert!(sqlite.tables.contains_key("sessions") && sqlite.tables["sessions"].contains("method"));
    assert_eq!(sqlite, postgres, "the same tables, columns and indexes");
}

#[rocket::async_test]
async fn the_database_has_exactly_the_columns_the_migrations_create() {
    let app = TestApp::spawn().await;
    let (_, expected) = tree(match app.db.backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    });
    for (table, columns) in &expected.tables {
        let sql = match app.db.backend {
            Backend::Sqlite => format!("SELECT name FROM pragma_table_info('{table}') WHERE $1 = $1"),
            Backend::Postgres => format!(
                "SELECT column_name::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = '{table}' AND $1 = $1"
            ),
        };
        let found: Vec<(String,)> = sqlx::query_as(&sql).bind(1).fetch_all(app.pool()).await.unwrap();
        let found: BTreeSet<String> = found.into_iter().map(|(c,)| c).collect();
        assert_eq!(&found, columns, "the columns of {table}");
    }
}
