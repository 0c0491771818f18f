//! `[source] type = "postgres"` against a real PostgreSQL server (`support::postgres`: a
//! private cluster per test process, a database and a password-authenticated role per test):
//! the recipe of docs/mapping.md (`examples/recipes/postgres/`) end to end, with rows updated,
//! inserted and deleted between runs; every column type as a user expects it (a bigint id, a
//! numeric with many digits, arrays, NULL); a bad row reported by its number and id while the
//! rest sync; a query error with the server's message and a caret under its position; the
//! connection string's password never shown; wrong connection strings; a query that tries to
//! write (READ ONLY: it fails and nothing is written); one snapshot for the whole read; a dry
//! run; a kill mid-run and a rerun; the daemon. Where PostgreSQL is not installed each test
//! returns at once (said once on stderr; under CI=true it fails).

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::Value;

use crate::daemon::{Daemon, EVERY_SECOND};
use crate::support::fake_openphone::{CustomFieldDef, FakeOptions};
use crate::support::postgres::{Db, server};
use crate::support::{Workspace, custom, standard_fields};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const VIP: &str = "66aa00000000000000000002";
const SCORE: &str = "66aa00000000000000000003";
const RENEWAL: &str = "66aa00000000000000000004";
const INTERESTS: &str = "66aa00000000000000000005";

/// The recipe's table, and three customers (one archived, so not a contact).
const CUSTOMERS: &str = r"
CREATE TABLE customers (
    id bigint PRIMARY KEY,
    first_name text NOT NULL,
    last_name varchar(60),
    company text,
    email text,
    phones text[],
    tags varchar(20)[],
    vip boolean,
    lifetime_value numeric(14, 2),
    customer_since date,
    archived boolean NOT NULL DEFAULT false
);
INSERT INTO customers VALUES
    (9007199254740993, 'Ana', 'Silva', 'Acme', 'ana@example.com', '{2015550111,NULL,+1 201 555 0112}', '{a,b}', true, 1234.50, '2019-02-03', false),
    (2, 'Bo', 'Chen', NULL, 'bo@example.com', '{2015550113}', NULL, false, NULL, NULL, false),
    (3, 'Cy', 'Old', 'Gone Inc', NULL, '{2015550114}', '{}', NULL, 0.10, '2020-01-01', true);
";

/// Skips the test (returns) where PostgreSQL is not installed.
macro_rules! db {
    () => {
        match server() {
            Some(s) => s.database().await,
            None => return,
        }
    };
}

/// The recipe's mapping and `[source]` table, reading the connection string from
/// `db-url` (`url_file`) instead of the environment unless `env` is set.
fn recipe(ws: &Workspace, env: bool) {
    let dir = format!("{ROOT}/examples/recipes/postgres");
    std::fs::copy(format!("{dir}/mapping.toml"), ws.path("mapping.toml")).expect("mapping");
    let config = std::fs::read_to_string(format!("{dir}/config.toml")).unwrap();
    let source = config.split("[source]\n").nth(1).unwrap().split("\n[").next().unwrap();
    let source = if env {
        source.to_owned()
    } else {
        source.replace("url_env = \"CONTACTS_DATABASE_URL\"", "url_file = \"db-url\"")
    };
    ws.write_config_with_source("", &format!("{source}\n"));
}

/// Points the workspace at `db`'s `query` with `mapping`, the connection string in `db-url`.
fn use_query(ws: &Workspace, db: &Db, query: &str, mapping: &str) {
    ws.write("db-url", &db.url);
    ws.write("mapping.toml", mapping);
    ws.write_config_with_source("", &format!("type = \"postgres\"\nurl_file = \"db-url\"\nquery = '''\n{query}'''\n"));
}

fn phones(c: &Value) -> Vec<String> {
    c["defaultFields"]["phoneNumbers"]
        .as_array()
        .map(|a| a.iter().map(|p| p["value"].as_str().unwrap().into()).collect())
        .unwrap_or_default()
}

async fn run_env(ws: &Workspace, db: &Db, args: &[&str]) -> crate::support::Run {
    let mut cmd = ws.command(args, Some(&ws.api_key));
    cmd.env("CONTACTS_DATABASE_URL", &db.url);
    ws.output(cmd).await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_recipe_syncs_and_follows_rows_updated_inserted_and_deleted_between_runs() {
    let db = db!();
    db.client.batch_execute(CUSTOMERS).await.unwrap();
    let ws = Workspace::new().await;
    recipe(&ws, true);

    let offline = run_env(&ws, &db, &["check", "--offline"]).await;
    assert_eq!(offline.code, 0, "{}{}", offline.stdout, offline.stderr);
    assert!(offline.stdout.contains("2 rows, every mapped column present"), "{}", offline.stdout);
    let check = run_env(&ws, &db, &["check"]).await;
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    let dry = run_env(&ws, &db, &["sync", "--dry-run", "--output", "json"]).await;
    assert_eq!(dry.report()["planned"]["create"], 2, "{}{}", dry.stdout, dry.stderr);
    assert!(ws.fake.contacts().is_empty(), "a dry run writes nothing");

    let run = run_env(&ws, &db, &["sync", "--output", "json"]).await;
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    ws.assert_exactly(&["9007199254740993".to_owned(), "2".to_owned()]);
    let ana = &ws.by_external_id("9007199254740993")[0];
    assert_eq!(ana["defaultFields"]["firstName"], "Ana");
    assert_eq!(ana["defaultFields"]["company"], "Acme");
    assert_eq!(phones(ana), ["+12015550111", "+12015550112"], "the array's values, its NULL left out: {ana:#}");
    assert_eq!(custom(ana, VIP), true);
    assert_eq!(custom(ana, SCORE), 1234.5);
    assert!(custom(ana, RENEWAL).as_str().unwrap().starts_with("2019-02-03"), "{ana:#}");
    assert_eq!(custom(ana, INTERESTS), serde_json::json!(["a", "b"]));
    let bo = &ws.by_external_id("2")[0];
    assert_eq!(custom(bo, SCORE), Value::Null, "NULL is an empty cell: {bo:#}");
    ws.assert_spec_clean();

    // Between runs: an update, an insert, a delete, and an archived customer back.
    db.client
        .batch_execute(
            "UPDATE customers SET first_name = 'Anabel', lifetime_value = 99999999.99 WHERE id = 9007199254740993;
             INSERT INTO customers (id, first_name, last_name, phones) VALUES (4, 'Dee', 'New', '{2015550115}');
             DELETE FROM customers WHERE id = 2;
             UPDATE customers SET archived = false WHERE id = 3;",
        )
        .await
        .unwrap();
    let run = run_env(&ws, &db, &["sync", "--output", "json"]).await;
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let report = run.report();
    assert_eq!(report["applied"]["create"], 2, "{report:#}");
    assert_eq!(report["applied"]["update"], 1, "{report:#}");
    assert_eq!(report["applied"]["delete"], 1, "{report:#}");
    ws.assert_exactly(&["9007199254740993".to_owned(), "3".to_owned(), "4".to_owned()]);
    let ana = &ws.by_external_id("9007199254740993")[0];
    assert_eq!(ana["defaultFields"]["firstName"], "Anabel");
    assert_eq!(custom(ana, SCORE), 99_999_999.99);
    let again = run_env(&ws, &db, &["sync", "--output", "json"]).await.report();
    assert_eq!(again["planned"]["create"], 0, "{again:#}");
    assert_eq!(again["planned"]["update"], 0, "{again:#}");
}

/// A workspace with one string custom field per type, so each value shows as the text the
/// mapping read.
async fn typed_workspace(names: &[&str]) -> Workspace {
    let fields = names
        .iter()
        .enumerate()
        .map(|(i, n)| CustomFieldDef { name: (*n).into(), key: format!("77bb{i:020}"), field_type: "string".into() })
        .collect();
    Workspace::with(FakeOptions { custom_fields: fields, ..FakeOptions::default() }).await
}

#[tokio::test(flavor = "multi_thread")]
async fn every_column_type_reads_as_a_user_expects() {
    let db = db!();
    // (column, SQL value of row 1, the text expected; row 2 is all NULL but its id.)
    let cases: &[(&str, &str, &str)] = &[
        ("t_text", "'plain text'::text", "plain text"),
        ("t_varchar", "'varchar'::varchar(20)", "varchar"),
        ("t_char", "'ab'::char(4)", "ab"),
        ("t_name", "'a_name'::name", "a_name"),
        ("t_int2", "(-32768)::int2", "-32768"),
        ("t_int4", "2147483647::int4", "2147483647"),
        ("t_int8", "9223372036854775807::int8", "9223372036854775807"),
        (
            "t_numeric",
            "'-12345678901234567890.123456789012345678'::numeric",
            "-12345678901234567890.123456789012345678",
        ),
        ("t_numeric_scale", "12.5::numeric(10,3)", "12.500"),
        ("t_numeric_small", "0.000012::numeric", "0.000012"),
        ("t_float4", "0.1::float4", "0.1"),
        ("t_float8", "1e21::float8", "1000000000000000000000"),
        ("t_float8_frac", "2.5::float8", "2.5"),
        ("t_bool", "true", "TRUE"),
        ("t_date", "'2024-05-31'::date", "2024-05-31"),
        ("t_timestamptz", "'2024-05-31 16:30:00+02'::timestamptz", "2024-05-31T14:30:00"),
        ("t_timestamp", "'2024-05-31 14:30:05.25'::timestamp", "2024-05-31T14:30:05.250"),
        ("t_text_array", "ARRAY['x', NULL, 'y']::text[]", "x ::: y"),
        ("t_varchar_array", "'{{p,q},{r,s}}'::varchar[]", "p ::: q ::: r ::: s"),
        ("t_int_array", "ARRAY[1, 2]::int8[]", "1 ::: 2"),
        ("t_uuid", "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'::uuid", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
        ("t_enum", "'gold'::tier", "gold"),
        ("t_domain", "'dom'::short_text", "dom"),
    ];
    let names: Vec<&str> = cases.iter().map(|c| c.0).collect();
    let ws = typed_workspace(&names).await;
    db.client
        .batch_execute("CREATE TYPE tier AS ENUM ('gold', 'silver'); CREATE DOMAIN short_text AS varchar(10);")
        .await
        .unwrap();
    let row1: Vec<String> = cases.iter().map(|(c, v, _)| format!("{v} AS {c}")).collect();
    let row2: Vec<String> = cases.iter().map(|(c, v, _)| format!("NULL::{} AS {c}", sql_type(v))).collect();
    let query = format!(
        "SELECT 9007199254740993::bigint AS id, 'One' AS first, {}\nUNION ALL\nSELECT 2, 'Two', {}\nORDER BY 1\n",
        row1.join(", "),
        row2.join(", ")
    );
    let mut mapping = "external_id = \"id\"\n[default_fields]\nfirst_name = \"first\"\n".to_owned();
    for n in &names {
        let _ = write!(mapping, "[[custom_fields]]\nname = \"{n}\"\ncolumn = \"{n}\"\n");
    }
    use_query(&ws, &db, &query, &mapping);
    ws.sync(0).await;
    let one = &ws.by_external_id("9007199254740993")[0];
    let two = &ws.by_external_id("2")[0];
    for (i, (column, _, want)) in cases.iter().enumerate() {
        let key = format!("77bb{i:020}");
        assert_eq!(custom(one, &key), *want, "{column}: {one:#}");
        assert_eq!(custom(two, &key), Value::Null, "{column}: NULL is an empty cell: {two:#}");
    }
    // A type the source does not read: named with its column, before anything is written.
    use_query(
        &ws,
        &db,
        "SELECT 5 AS id, 'x' AS first, '\\x00'::bytea AS photo",
        "external_id = \"id\"\n[default_fields]\nfirst_name = \"first\"\n",
    );
    let run = ws.run(&["sync"]).await;
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("column \"photo\" is of type bytea, which is not read"), "{}", run.stderr);
    assert!(ws.by_external_id("5").is_empty());
}

/// The type a case's SQL value is cast to (what follows its last `::`), for a NULL of it.
fn sql_type(value: &str) -> &str {
    match value.rsplit_once("::") {
        Some((_, ty)) => ty,
        None => "boolean",
    }
}

const STRICT: &str = r#"
external_id = "id"

[default_fields]
first_name = "first_name"

[[phone_numbers]]
label      = "mobile"
column     = "phone"
on_invalid = "skip_row"

[phone]
default_region = "US"
"#;

/// `people(id, first_name, phone)` with `n` rows, ids 1..=n.
async fn people(db: &Db, n: usize) {
    db.client
        .batch_execute(&format!(
            "CREATE TABLE people (id bigint PRIMARY KEY, first_name text, phone text);
             INSERT INTO people SELECT i, 'First' || i, '+1 201 555 ' || lpad(i::text, 4, '0') FROM generate_series(1, {n}) i;"
        ))
        .await
        .unwrap();
}

const PEOPLE: &str = "SELECT id, first_name, phone FROM people ORDER BY id";

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_row_is_reported_by_its_number_and_id_while_the_rest_sync() {
    let db = db!();
    people(&db, 4).await;
    db.client.batch_execute("UPDATE people SET phone = 'not a phone' WHERE id = 3").await.unwrap();
    let ws = Workspace::new().await;
    use_query(&ws, &db, PEOPLE, STRICT);
    let check = ws.run_with_key(&["check", "--offline"], None).await;
    assert_eq!(check.code, 1, "{}{}", check.stdout, check.stderr);
    assert!(check.stdout.contains("row 3: 3: "), "{}", check.stdout);
    let report = ws.sync(1).await;
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{report:#}");
    assert_eq!(errors[0]["row"], 3, "{report:#}");
    assert_eq!(errors[0]["external_id"], "3", "{report:#}");
    ws.assert_exactly(&["1".to_owned(), "2".to_owned(), "4".to_owned()]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_query_error_shows_the_servers_message_and_a_caret_where_it_is() {
    let db = db!();
    people(&db, 2).await;
    let ws = Workspace::new().await;
    use_query(&ws, &db, "SELECT id,\n       first_nam, phone\nFROM people", STRICT);
    for args in [&["check", "--offline"][..], &["sync"][..], &["sync", "--dry-run"][..]] {
        let run = ws.run(args).await;
        assert_eq!(run.code, 2, "{args:?}: {}{}", run.stdout, run.stderr);
        let want = "the query failed: ERROR 42703: column \"first_nam\" does not exist\n  at line 2, column 8 of the query:\n           first_nam, phone\n           ^\n  hint: Perhaps you meant to reference the column \"people.first_name\".";
        assert!(run.stderr.contains(want), "{args:?}: {}", run.stderr);
        assert!(!run.stderr.contains("DbError"), "no Debug dump: {}", run.stderr);
    }
    // A syntax error, on the first line.
    use_query(&ws, &db, "SELEC id FROM people", STRICT);
    let run = ws.run(&["sync"]).await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("syntax error at or near \"SELEC\"\n  at line 1, column 1"), "{}", run.stderr);
    // No columns: not a SELECT.
    use_query(&ws, &db, "SET search_path = public", STRICT);
    let run = ws.run(&["sync"]).await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("the query returns no columns"), "{}", run.stderr);
    // The server quoting a control character of the query: escaped, in the message and the
    // line shown (a TOML basic string can hold one as \u001b).
    ws.write_config_with_source(
        "",
        "type = \"postgres\"\nurl_file = \"db-url\"\nquery = \"SELECT \\\"nope\\u001b[31m\\\" FROM people\"\n",
    );
    let run = ws.run(&["sync"]).await;
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains(r#"column "nope\u{1b}[31m" does not exist"#), "{}", run.stderr);
    assert!(!run.stderr.contains('\u{1b}'), "a control character reaches the terminal: {:?}", run.stderr);
    assert!(ws.fake.contacts().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_password_never_shows_in_errors_or_logs() {
    let Some(pg) = server() else { return };
    let db = pg.database().await;
    people(&db, 2).await;
    let ws = Workspace::new().await;
    use_query(&ws, &db, PEOPLE, STRICT);
    // A run that works, logging at debug level (the Workspace's RUST_LOG).
    let run = ws.run(&["sync", "--output", "json"]).await;
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(!run.stderr.contains(&db.password) && !run.stdout.contains(&db.password), "{}", run.stderr);
    // A query error, a wrong password, the wrong database, a closed port.
    let wrong = db.password.replace("s3cr3t", "wr0ng");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let cases = [
        (db.url.clone(), "SELECT nope FROM people", 2, "column \"nope\" does not exist"),
        (db.url.replace(&db.password, &wrong), PEOPLE, 2, "password authentication failed"),
        (
            db.url.replace(&format!("/{}?", db.name), "/no_such_db?"),
            PEOPLE,
            2,
            "database \"no_such_db\" does not exist",
        ),
        (db.url.replace(&format!(":{}/", pg.port), &format!(":{closed}/")), PEOPLE, 4, "cannot connect"),
    ];
    for (url, query, code, want) in cases {
        ws.write("db-url", &url);
        ws.write_config_with_source("", &format!("type = \"postgres\"\nurl_file = \"db-url\"\nquery = '{query}'\n"));
        for args in [&["check", "--offline"][..], &["sync"][..], &["sync", "--output", "json"][..]] {
            let run = ws.run(args).await;
            assert_eq!(run.code, code, "{want}: {}{}", run.stdout, run.stderr);
            assert!(run.stderr.contains(want), "{want}: {}", run.stderr);
            for secret in [&db.password, &wrong] {
                assert!(!run.stderr.contains(secret.as_str()), "{want}: the password shows: {}", run.stderr);
                assert!(!run.stdout.contains(secret.as_str()), "{want}: the password shows: {}", run.stdout);
            }
        }
    }
    // `check --no-source` (the daemon's start check) connects to nothing: the closed port
    // of the last case does not fail it.
    let run = ws.run_with_key(&["check", "--offline", "--no-source"], None).await;
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_connection_settings_are_config_errors_naming_the_key() {
    let ws = Workspace::new().await;
    ws.write("mapping.toml", STRICT);
    let secret = "postgresql://u:Hunter2-secret@127.0.0.1:1/db";
    ws.write("url-bad-mode", &format!("{secret}?sslmode=bogus"));
    ws.write("url-no-host", "user=u password=Hunter2-secret dbname=db");
    ws.write("url-garbage", "host=h password='Hunter2-secret");
    ws.write("empty", "\n");
    let cases: &[(&str, &str)] = &[
        ("url_env = \"NO_SUCH_VARIABLE_I21\"", "`source.url_env`: $NO_SUCH_VARIABLE_I21 is not set"),
        ("url_file = \"missing-file\"", "`source.url_file`: cannot read"),
        ("url_file = \"empty\"", "is empty"),
        ("url_credential = \"db\"", "`source.url_credential`: $CREDENTIALS_DIRECTORY is not set"),
        ("url_env = \"X\"\nurl_file = \"missing-file\"", "set only one of url_env, url_file"),
        ("url_file = \"url-bad-mode\"", "sslmode=bogus is not one of disable, prefer, require, verify-ca, verify-full"),
        ("url_file = \"url-no-host\"", "names no host"),
        ("url_file = \"url-garbage\"", "is not one PostgreSQL reads"),
        ("path = \"x.csv\"\nurl_file = \"url-no-host\"", "`source.path`: only for type = \"csv\""),
        ("", "missing the connection string"),
    ];
    for (keys, want) in cases {
        ws.write_config_with_source("", &format!("type = \"postgres\"\n{keys}\nquery = \"SELECT 1 AS id\"\n"));
        let run = ws.run_with_key(&["check", "--offline"], None).await;
        assert_eq!(run.code, 2, "{keys}: {}{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(want), "{keys}: {}", run.stderr);
        assert!(run.stderr.contains("config.toml:"), "{keys}: names the file and line: {}", run.stderr);
        assert!(!run.stderr.contains("Hunter2"), "{keys}: the password shows: {}", run.stderr);
    }
    ws.write_config_with_source("", "type = \"postgres\"\nurl_env = \"X\"\n");
    let run = ws.run_with_key(&["check", "--offline"], None).await;
    assert!(run.stderr.contains("missing `query`"), "{}", run.stderr);
    assert!(ws.fake.contacts().is_empty());
    assert!(!ws.mirror_path().exists(), "nothing written");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_query_that_writes_fails_as_read_only_and_writes_nothing() {
    let db = db!();
    people(&db, 2).await;
    let ws = Workspace::new().await;
    let writes = [
        "INSERT INTO people VALUES (99, 'Mallory', '+1 201 555 0199') RETURNING id, first_name, phone",
        "WITH gone AS (DELETE FROM people RETURNING *) SELECT id, first_name, phone FROM gone",
        "UPDATE people SET first_name = 'X' RETURNING id, first_name, phone",
    ];
    for query in writes {
        use_query(&ws, &db, query, STRICT);
        let run = ws.run(&["sync"]).await;
        assert_eq!(run.code, 2, "{query}: {}{}", run.stdout, run.stderr);
        assert!(run.stderr.contains("in a read-only transaction"), "{query}: {}", run.stderr);
        let rows = db.client.query("SELECT id, first_name FROM people ORDER BY id", &[]).await.unwrap();
        let got: Vec<(i64, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        assert_eq!(got, [(1, "First1".to_owned()), (2, "First2".to_owned())], "{query}");
        assert!(ws.fake.contacts().is_empty(), "{query}");
    }
}

/// The snapshot: the query's first row waits on an advisory lock the test holds; meanwhile
/// the test commits an update and an insert, then lets the query go on. A function the query
/// calls per row reads the name again (in READ COMMITTED it would see the update), and the
/// inserted row is not seen: the whole read is one snapshot.
#[tokio::test(flavor = "multi_thread")]
async fn rows_committed_during_the_read_are_not_seen() {
    let db = db!();
    people(&db, 3).await;
    db.client
        .batch_execute(
            "CREATE FUNCTION gate() RETURNS int LANGUAGE plpgsql VOLATILE AS $$
             BEGIN PERFORM pg_advisory_lock_shared(4242); PERFORM pg_advisory_unlock_shared(4242); RETURN 1; END $$;
             CREATE FUNCTION name_now(i bigint) RETURNS text LANGUAGE plpgsql VOLATILE AS $$
             BEGIN RETURN (SELECT first_name FROM people WHERE id = i); END $$;",
        )
        .await
        .unwrap();
    let holder = crate::support::postgres::connect(&db.url).await;
    holder.execute("SELECT pg_advisory_lock(4242)", &[]).await.unwrap();
    let ws = Workspace::new().await;
    let query =
        "SELECT id, name_now(id) AS first_name, phone FROM (SELECT id, phone, gate() AS g FROM people ORDER BY id) s";
    use_query(&ws, &db, query, STRICT);
    let sync = ws.command(&["sync", "--output", "json"], Some(&ws.api_key)).output();
    let sync = tokio::spawn(sync);
    // The read has begun (its snapshot taken) once it waits on the lock.
    let waiting = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted";
    let started = std::time::Instant::now();
    loop {
        let n: i64 = holder.query_one(waiting, &[]).await.unwrap().get(0);
        if n > 0 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "the query never reached the lock");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    holder
        .batch_execute(
            "UPDATE people SET first_name = 'Changed' WHERE id = 2;
             INSERT INTO people VALUES (4, 'Late', '+1 201 555 0104');",
        )
        .await
        .unwrap();
    holder.execute("SELECT pg_advisory_unlock(4242)", &[]).await.unwrap();
    let out = sync.await.unwrap().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    ws.assert_exactly(&["1".to_owned(), "2".to_owned(), "3".to_owned()]);
    assert_eq!(ws.by_external_id("2")[0]["defaultFields"]["firstName"], "First2", "one snapshot for the whole read");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_run_is_finished_by_the_next_with_no_duplicate() {
    let db = db!();
    people(&db, 40).await;
    let ws = Workspace::new().await;
    use_query(&ws, &db, PEOPLE, STRICT);
    ws.kill_sync_mid_run(40).await;
    ws.sync(0).await;
    let ids: Vec<String> = (1..=40).map(|i: u32| i.to_string()).collect();
    ws.assert_exactly(&ids);
    assert_eq!(ws.sync(0).await["planned"]["unchanged"], 40);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_daemon_follows_the_table() {
    let db = db!();
    people(&db, 3).await;
    let ws = Workspace::with(FakeOptions { custom_fields: standard_fields(), ..FakeOptions::default() }).await;
    use_query(&ws, &db, PEOPLE, STRICT);
    ws.append_config(EVERY_SECOND);
    let d = Daemon::start(&ws, &[]);
    d.wait_for("3 contacts", 10, |_| ws.fake.contacts().len() == 3).await;
    db.client
        .batch_execute(
            "UPDATE people SET first_name = 'Edited'; INSERT INTO people VALUES (4, 'Edited', '+1 201 555 0104')",
        )
        .await
        .unwrap();
    d.wait_for("the edit and the new row", 10, |_| {
        let c = ws.fake.contacts();
        c.len() == 4 && c.iter().all(|c| c["defaultFields"]["firstName"] == "Edited")
    })
    .await;
    let (code, _, log) = d.stop().await;
    assert_eq!(code, 0, "{log}");
    ws.assert_exactly(&["1".to_owned(), "2".to_owned(), "3".to_owned(), "4".to_owned()]);
}

/// `sslmode` against the test server's self-signed certificate: `prefer` (unset) and
/// `require` encrypt (the query sees its own connection in `pg_stat_ssl`), `disable` does
/// not, `verify-ca` and `verify-full` refuse a certificate no system root vouches for (exit 4,
/// saying what they accept).
#[tokio::test(flavor = "multi_thread")]
async fn sslmode_is_honoured() {
    let db = db!();
    if !server().is_some_and(|s| s.tls) {
        eprintln!("no openssl: the test server has no TLS");
        return;
    }
    let ws = Workspace::new().await;
    let query = "SELECT 1 AS id, 'x' AS first_name, '+1 201 555 0101' AS phone WHERE (SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid())";
    use_query(&ws, &db, query, STRICT);
    let plain = db.url.replace("?sslmode=disable", "");
    for (mode, code, want) in [
        ("", 0, "1 rows"),
        ("?sslmode=prefer", 0, "1 rows"),
        ("?sslmode=require", 0, "1 rows"),
        ("?sslmode=disable", 0, "0 rows"),
        ("?sslmode=verify-ca", 4, "invalid peer certificate"),
        ("?sslmode=verify-full", 4, "invalid peer certificate"),
    ] {
        ws.write("db-url", &format!("{plain}{mode}"));
        let run = ws.run_with_key(&["check", "--offline"], None).await;
        assert_eq!(run.code, code, "{mode}: {}{}", run.stdout, run.stderr);
        assert!(run.stdout.contains(want) || run.stderr.contains(want), "{mode}: {}{}", run.stdout, run.stderr);
        assert!(!run.stderr.contains(&db.password), "{mode}: {}", run.stderr);
    }
}

/// The connection string from a systemd credential (`$CREDENTIALS_DIRECTORY/<name>`), in the
/// `key=value` form, to the server's Unix socket.
#[tokio::test(flavor = "multi_thread")]
async fn a_credential_and_a_unix_socket() {
    let db = db!();
    people(&db, 2).await;
    let pg = server().unwrap();
    let ws = Workspace::new().await;
    use_query(&ws, &db, PEOPLE, STRICT);
    std::fs::create_dir(ws.path("credentials")).unwrap();
    let socket = format!(
        "host={} port={} user={} password={} dbname={}\n",
        pg.socket_dir.display(),
        pg.port,
        db.role,
        db.password,
        db.name
    );
    std::fs::write(ws.path("credentials/database-url"), socket).unwrap();
    ws.write_config_with_source(
        "",
        &format!("type = \"postgres\"\nurl_credential = \"database-url\"\nquery = '{PEOPLE}'\n"),
    );
    let mut cmd = ws.command(&["sync", "--output", "json"], Some(&ws.api_key));
    cmd.env("CREDENTIALS_DIRECTORY", ws.path("credentials"));
    let run = ws.output(cmd).await;
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    ws.assert_exactly(&["1".to_owned(), "2".to_owned()]);
    assert!(!run.stderr.contains(&db.password), "{}", run.stderr);
}
