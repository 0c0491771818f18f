//! A private PostgreSQL cluster for the tests: made by `initdb` in a temporary folder and
//! started once per test process on a free port of 127.0.0.1 (password authentication only,
//! `scram-sha-256`), by Debian's server binaries (`/usr/lib/postgresql/<version>/bin`, the
//! newest; `PG_BINDIR` names another folder). As root (CI) the server runs as `nobody`
//! through `setpriv`, since `initdb` refuses root. A small shell keeps it: it waits on a pipe
//! this process holds, and when the process ends (however it ends) it stops the server and
//! removes the folder. Each test makes its own role and database ([`Server::database`]), so
//! the tests run in parallel.
//!
//! Where the binaries are missing, [`server`] returns `None` and says so once on stderr (the
//! tests that need it return at once: a fresh machine's `cargo test` still passes); under CI
//! (`CI=true`) a missing server is a failure.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The running cluster.
pub(crate) struct Server {
    pub port: u16,
    /// The server offers TLS (a self-signed certificate for `localhost`, made by `openssl`
    /// where it is installed).
    pub tls: bool,
    /// The folder of the server's Unix socket.
    pub socket_dir: PathBuf,
    password: String,
    /// The pipe whose end stops the server (held, never written).
    _keeper: std::sync::Mutex<std::process::ChildStdin>,
}

/// One test's database, owned by its own password-authenticated role.
pub(crate) struct Db {
    pub name: String,
    pub role: String,
    pub password: String,
    /// The role's connection string.
    pub url: String,
    /// Connected as the role.
    pub client: tokio_postgres::Client,
}

static SERVER: OnceLock<Option<Server>> = OnceLock::new();
static NEXT: AtomicUsize = AtomicUsize::new(1);

/// The cluster, started on first use; `None` (said once) where PostgreSQL is not installed.
pub(crate) fn server() -> Option<&'static Server> {
    SERVER.get_or_init(start).as_ref()
}

fn bindir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("PG_BINDIR") {
        return Some(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| {
            let e = e.ok()?;
            let v = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, b)| b)
}

fn start() -> Option<Server> {
    let Some(bin) = bindir().filter(|b| b.join("postgres").is_file() && b.join("initdb").is_file()) else {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true");
        assert!(
            !ci,
            "CI=true and no PostgreSQL server binaries in /usr/lib/postgresql/*/bin (or $PG_BINDIR): .ci/run installs Debian's postgresql package"
        );
        // Written past the test harness's capture, so that it shows in `cargo test`'s output.
        let _ = std::io::stderr().write_all(
            b"\n*** SKIPPED: the PostgreSQL source tests (tests/it/postgres.rs) did not run: no PostgreSQL server binaries \
              in /usr/lib/postgresql/*/bin or $PG_BINDIR. Install Debian's `postgresql` package to run them \
              (CI=true makes this a failure). ***\n\n",
        );
        return None;
    };
    let root = unsafe { libc::geteuid() } == 0;
    let dir = tempfile::Builder::new().prefix("openphone-sync-pg-").tempdir().expect("tempdir").keep();
    let password = format!("admin-{}", std::process::id());
    std::fs::write(dir.join("pw"), &password).unwrap();
    if root {
        let status = Command::new("chown").args(["-R", "nobody:nogroup"]).arg(&dir).status().expect("chown");
        assert!(status.success(), "chown {}", dir.display());
    }
    // As root, every server program runs as nobody.
    let as_server = |program: &Path| -> Command {
        let mut c = if root {
            let mut c = Command::new("setpriv");
            c.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"]).arg(program);
            c
        } else {
            Command::new(program)
        };
        c.current_dir(&dir);
        c
    };
    let data = dir.join("data");
    let out = as_server(&bin.join("initdb"))
        .arg("-D")
        .arg(&data)
        .args(["-U", "postgres", "--auth=scram-sha-256", "--encoding=UTF8", "--no-locale", "--no-sync"])
        .arg(format!("--pwfile={}", dir.join("pw").display()))
        .output()
        .expect("initdb");
    assert!(
        out.status.success(),
        "initdb failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // TLS with a self-signed certificate, where openssl can make one.
    let tls = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost"])
        .args(["-keyout", "server.key", "-out", "server.crt"])
        .current_dir(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if tls {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.join("server.key"), std::fs::Permissions::from_mode(0o600)).unwrap();
        if root {
            let status =
                Command::new("chown").args(["nobody:nogroup", "server.key", "server.crt"]).current_dir(&dir).status();
            assert!(status.is_ok_and(|s| s.success()), "chown the certificate");
        }
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let server = as_server(&bin.join("postgres"));
    let mut args: Vec<String> = vec![server.get_program().to_string_lossy().into_owned()];
    args.extend(server.get_args().map(|a| a.to_string_lossy().into_owned()));
    args.extend(
        [
            "-D",
            &data.to_string_lossy(),
            "-p",
            &port.to_string(),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            &format!("unix_socket_directories={}", dir.display()),
            "-c",
            "fsync=off",
            "-c",
            "max_connections=300",
        ]
        .map(str::to_owned),
    );
    if tls {
        for (setting, file) in [("ssl_cert_file", "server.crt"), ("ssl_key_file", "server.key")] {
            args.extend(["-c".to_owned(), format!("{setting}={}", dir.join(file).display())]);
        }
        args.extend(["-c".to_owned(), "ssl=on".to_owned()]);
    }
    // The keeper: the server in the background, then a wait for this process's end (the pipe
    // closes), then a fast shutdown and the folder removed.
    let script = r#"dir="$1"; shift; "$@" >"$dir/log" 2>&1 & pid=$!; cat >/dev/null; kill -INT "$pid"; wait "$pid"; rm -rf "$dir""#;
    let mut keeper = Command::new("sh")
        .args(["-c", script, "sh"])
        .arg(&dir)
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the PostgreSQL keeper");
    let stdin = keeper.stdin.take().unwrap();
    let started = Instant::now();
    loop {
        let ready = Command::new(bin.join("pg_isready"))
            .args(["-q", "-h", "127.0.0.1", "-p", &port.to_string()])
            .status()
            .is_ok_and(|s| s.success());
        if ready {
            break;
        }
        let log = std::fs::read_to_string(dir.join("log")).unwrap_or_default();
        assert!(!log.contains("FATAL"), "PostgreSQL did not start: {log}");
        assert!(started.elapsed() < Duration::from_mins(1), "PostgreSQL did not start in 60 s: {log}");
        if let Ok(Some(status)) = keeper.try_wait() {
            panic!("PostgreSQL ended at start ({status}): {log}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(Server { port, tls, socket_dir: dir.clone(), password, _keeper: std::sync::Mutex::new(stdin) })
}

impl Server {
    /// A connection string of `user` (its `password`) to `db`.
    pub(crate) fn url(&self, user: &str, password: &str, db: &str) -> String {
        format!("postgresql://{user}:{password}@127.0.0.1:{}/{db}?sslmode=disable", self.port)
    }

    /// A new database owned by a new role with a password; the role's client connected.
    pub(crate) async fn database(&self) -> Db {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("contacts_{n}");
        let role = format!("sync_{n}");
        let password = format!("Pw-{n}-{}-s3cr3t", std::process::id());
        let admin = connect(&self.url("postgres", &self.password, "postgres")).await;
        admin.batch_execute(&format!("CREATE ROLE {role} LOGIN PASSWORD '{password}'")).await.expect("create the role");
        admin.batch_execute(&format!("CREATE DATABASE {name} OWNER {role}")).await.expect("create the database");
        let url = self.url(&role, &password, &name);
        let client = connect(&url).await;
        Db { name, role, password, url, client }
    }
}

/// Connects (plain, as the cluster has no TLS), the connection driven on the current runtime.
pub(crate) async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.expect("connect");
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}
