//! The key and the customers' data go only where the user sent them (issue 25): plain HTTP
//! only to this machine, no redirect followed, the metrics port cannot starve the syncs of
//! file handles, files made new and private, a key file read only when it is a small regular
//! file, and network errors that say why.

use std::sync::{Arc, Mutex};

use crate::support::Workspace;
use crate::support::fake_google::{self, FakeGoogle};

/// The line of config.toml holding `needle`.
fn line_of(ws: &Workspace, needle: &str) -> usize {
    let config = std::fs::read_to_string(ws.path("config.toml")).unwrap();
    config.lines().position(|l| l.contains(needle)).unwrap_or_else(|| panic!("no {needle:?} in\n{config}")) + 1
}

#[tokio::test(flavor = "multi_thread")]
async fn plain_http_to_another_host_is_refused_unless_allowed_by_name() {
    let ws = Workspace::new().await;
    ws.write_n(1);
    let config = std::fs::read_to_string(ws.path("config.toml")).unwrap();
    let remote = config.replace(&ws.fake.base_url(), "http://10.1.2.3:8080");
    ws.write("config.toml", &remote);
    for args in [&["check", "--offline", "--no-source"][..], &["sync"][..]] {
        let run = ws.run(args).await;
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        let want = format!("config.toml:{}: `openphone.base_url`: plain http:// to 10.1.2.3", line_of(&ws, "base_url"));
        assert!(run.stderr.contains(&want), "{args:?}: missing {want:?} in:\n{}", run.stderr);
        assert!(run.stderr.contains("allow_plain_http_to_remote_host = true"), "{}", run.stderr);
    }
    // The opt-in, named for what it does, lets it through.
    ws.write("config.toml", &remote.replace("[openphone]\n", "[openphone]\nallow_plain_http_to_remote_host = true\n"));
    let run = ws.run(&["check", "--offline", "--no-source"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    // https:// to any host, and http:// to this machine under any of its names, need nothing.
    for url in ["https://10.1.2.3:8443", "http://localhost:1", "http://[::1]:1", "http://127.0.0.2:1"] {
        ws.write("config.toml", &config.replace(&ws.fake.base_url(), url));
        let run = ws.run(&["check", "--offline", "--no-source"]).await;
        assert_eq!(run.code, 0, "{url}: {}", run.stderr);
    }
    assert!(ws.fake.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn plain_http_to_a_remote_google_endpoint_is_refused_unless_allowed() {
    let ws = Workspace::new().await;
    let google = FakeGoogle::start().await;
    ws.use_sheet(&google, "sheet", "A1:K", "");
    let config = std::fs::read_to_string(ws.path("config.toml")).unwrap();
    // The Sheets address.
    ws.write("config.toml", &config.replace(&google.api_base_url(), "http://sheets.example.com/"));
    let run = ws.run(&["check", "--offline", "--no-source"]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    let want = format!(
        "config.toml:{}: `source.api_base_url`: plain http:// to sheets.example.com",
        line_of(&ws, "api_base_url")
    );
    assert!(run.stderr.contains(&want), "missing {want:?} in:\n{}", run.stderr);
    // The key file's token_uri, where the signed grant goes.
    ws.write("config.toml", &config);
    let key = google.key_json(fake_google::TEST_KEY_PEM, fake_google::CLIENT_EMAIL);
    ws.write("service-account.json", &key.replace(&google.token_uri(), "http://oauth.example.com/token"));
    let run = ws.run(&["check", "--offline", "--no-source"]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("`source.service_account_key`:"), "{}", run.stderr);
    assert!(
        run.stderr.contains("\"token_uri\" http://oauth.example.com/token: plain http:// to oauth.example.com"),
        "{}",
        run.stderr
    );
    ws.write("config.toml", &config.replace("[source]\n", "[source]\nallow_plain_http_to_remote_host = true\n"));
    let run = ws.run(&["check", "--offline", "--no-source"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(google.grants().is_empty());
}

/// A proxy in front of the fake OpenPhone: a GET is passed through, anything else is answered
/// `status` with a `Location` at the same path on the fake. Returns its base URL and the
/// requests it saw (method and path).
async fn redirector(fake_base: String, status: u16) -> (String, Arc<Mutex<Vec<String>>>) {
    use axum::body::{Body, to_bytes};
    use axum::extract::Request;
    use axum::response::Response;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let handle = move |req: Request| {
        let (fake_base, log, http) = (fake_base.clone(), log.clone(), http.clone());
        async move {
            let target =
                format!("{fake_base}{}", req.uri().path_and_query().map_or("/", axum::http::uri::PathAndQuery::as_str));
            log.lock().unwrap().push(format!("{} {}", req.method(), req.uri().path()));
            if req.method() != axum::http::Method::GET {
                return Response::builder().status(status).header("Location", target).body(Body::empty()).unwrap();
            }
            let auth = req.headers().get("authorization").cloned();
            let _ = to_bytes(req.into_body(), usize::MAX).await;
            let mut forward = http.get(&target);
            if let Some(a) = auth {
                forward = forward.header("authorization", a.as_bytes());
            }
            let reply = forward.send().await.unwrap();
            let code = reply.status().as_u16();
            Response::builder()
                .status(code)
                .header("content-type", "application/json")
                .body(Body::from(reply.bytes().await.unwrap()))
                .unwrap()
        }
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, axum::Router::new().fallback(handle)).await;
    });
    (format!("http://{addr}"), seen)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redirect_is_not_followed_and_the_contacts_go_nowhere_else() {
    for status in [307, 308, 302, 301] {
        let ws = Workspace::new().await;
        ws.write_n(1);
        let (proxy, seen) = redirector(ws.fake.base_url(), status).await;
        let config = std::fs::read_to_string(ws.path("config.toml")).unwrap();
        ws.write("config.toml", &config.replace(&ws.fake.base_url(), &proxy));
        let run = ws.run(&["sync", "--output", "json"]).await;
        assert_ne!(run.code, 0, "{status}: {}", run.stderr);
        let location = format!("{}/v1/contacts", ws.fake.base_url());
        assert!(
            run.stderr.contains(&format!("HTTP {status}, a redirect to {location}, which is not followed")),
            "{status}: {}",
            run.stderr
        );
        // The fake saw only the GETs passed through: no body went to it, no POST turned GET.
        let at_fake = ws.fake.requests();
        assert!(at_fake.iter().all(|r| r.method == "GET" && r.body.is_none()), "{status}: {at_fake:#?}");
        let passed = seen.lock().unwrap().iter().filter(|s| s.starts_with("GET ")).count();
        assert_eq!(at_fake.len(), passed, "{status}: the fake got requests that did not pass the proxy");
        assert!(ws.fake.contacts().is_empty(), "{status}");
        // The run stops at the first redirect: one create was tried, and not again.
        let posts = seen.lock().unwrap().iter().filter(|s| s.starts_with("POST ")).count();
        assert_eq!(posts, 1, "{status}: {:?}", seen.lock().unwrap());
    }
}

/// Points config.toml's `[openphone] api_key_file` at `name`.
fn use_key_file(ws: &Workspace, name: &str) {
    let config = std::fs::read_to_string(ws.path("config.toml")).unwrap();
    ws.write("config.toml", &config.replace("[openphone]\n", &format!("[openphone]\napi_key_file = \"{name}\"\n")));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_file_is_read_only_when_it_is_a_small_regular_file() {
    use std::os::unix::fs::PermissionsExt;
    let mut ws = Workspace::new().await;
    ws.run_timeout = std::time::Duration::from_secs(20);
    ws.write_n(1);
    use_key_file(&ws, "api-key");
    let key_line = line_of(&ws, "api_key_file");
    // A FIFO (nothing ever writes to it) is refused at once, even by the unit's start check.
    let fifo = ws.path("api-key");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    for args in [&["check", "--offline", "--no-source"][..], &["sync"][..]] {
        let run = ws.run_with_key(args, None).await;
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        let want = format!("config.toml:{key_line}: `openphone.api_key_file`: cannot read the API key from");
        assert!(run.stderr.contains(&want), "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("a named pipe (FIFO), not a regular file"), "{}", run.stderr);
    }
    std::fs::remove_file(&fifo).unwrap();
    // A 100 MB file is not read, let alone sent as a header.
    let big = std::fs::File::create(ws.path("api-key")).unwrap();
    big.set_len(100 << 20).unwrap();
    let run = ws.run_with_key(&["sync"], None).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("more than a key file's 65536"), "{}", run.stderr);
    assert!(ws.fake.requests().is_empty(), "nothing is sent with a key from a huge file");
    // A key saved with a BOM (Notepad) works; a file others can read is warned about once.
    ws.write("api-key", &format!("\u{feff}{}\r\n", ws.api_key));
    std::fs::set_permissions(ws.path("api-key"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let shown = ws.path("api-key").display().to_string();
    let warnings = |stderr: &str| {
        stderr.lines().filter(|l| l.contains("can be read by other users") && l.contains(&shown)).count()
    };
    let run = ws.run_with_key(&["sync"], None).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(ws.fake.contacts().len(), 1);
    assert_eq!(warnings(&run.stderr), 1, "{}", run.stderr);
    let run = ws.run_with_key(&["check", "--no-source"], None).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(warnings(&run.stderr), 1, "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_that_gets_no_reply_says_why() {
    let ws = Workspace::new().await;
    ws.write_n(1);
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let config = std::fs::read_to_string(ws.path("config.toml")).unwrap();
    let fake = ws.fake.base_url();
    // `.invalid` never resolves (RFC 6761); nothing listens on a port just closed; the fake
    // speaks plain HTTP to a TLS client.
    for (url, why) in [
        ("https://openphone-sync-test.invalid".to_owned(), "cannot resolve the host name (DNS)"),
        (format!("http://127.0.0.1:{closed}"), "connection refused"),
        (fake.replace("http://", "https://"), "TLS failed"),
    ] {
        let c = config.replace(&fake, &url).replace("max_retries = 4", "max_retries = 0");
        ws.write("config.toml", &c);
        for args in [&["check", "--no-source"][..], &["sync"][..]] {
            let run = ws.run(args).await;
            assert_eq!(run.code, 4, "{url} {args:?}: {}", run.stderr);
            assert!(run.stderr.contains(&format!("no reply from OpenPhone: {why}")), "{url} {args:?}: {}", run.stderr);
        }
    }
    assert!(ws.fake.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_mirror_s_files_are_private_and_never_written_through_a_link() {
    use std::os::unix::fs::PermissionsExt;
    let ws = Workspace::new().await;
    ws.write_n(2);
    let outside = ws.path("precious.txt");
    ws.write("precious.txt", "someone else's file\n");
    // A link planted where the lock goes: the file it points to is neither truncated nor
    // written, and the run says why it stops.
    let lock = ws.path("mirror.sqlite3.lock");
    std::os::unix::fs::symlink(&outside, &lock).unwrap();
    let run = ws.run(&["sync"]).await;
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(run.stderr.contains("mirror.sqlite3.lock is a symbolic link"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "someone else's file\n");
    assert!(ws.fake.contacts().is_empty());
    std::fs::remove_file(&lock).unwrap();
    ws.sync(0).await;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    // A link planted where SQLite keeps its write-ahead log is refused by name.
    let wal = ws.path("mirror.sqlite3-wal");
    let _ = std::fs::remove_file(&wal);
    std::os::unix::fs::symlink(&outside, &wal).unwrap();
    ws.write_n(3);
    let run = ws.run(&["sync"]).await;
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(run.stderr.contains("mirror.sqlite3-wal is a symbolic link"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "someone else's file\n");
    std::fs::remove_file(&wal).unwrap();
    // A log file of ours left readable by others is made private before it holds anything.
    ws.write("mirror.sqlite3-wal", "");
    std::fs::set_permissions(&wal, std::fs::Permissions::from_mode(0o666)).unwrap();
    // A mirror others can read is warned about, once, like a key file.
    std::fs::set_permissions(ws.mirror_path(), std::fs::Permissions::from_mode(0o644)).unwrap();
    let run = ws.run(&["sync"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    if wal.exists() {
        assert_eq!(mode(&wal), 0o600);
    }
    let shown = ws.mirror_path().display().to_string();
    let warnings =
        run.stderr.lines().filter(|l| l.contains("Mirror") && l.contains("can be read by other users")).count();
    assert_eq!(warnings, 1, "{}", run.stderr);
    assert!(run.stderr.contains(&format!("chmod 600 {shown}")), "{}", run.stderr);
    ws.assert_exactly(&crate::support::ids(1..=3));
}

#[tokio::test(flavor = "multi_thread")]
async fn running_out_of_file_handles_says_so() {
    let ws = Workspace::new().await;
    ws.write_n(1);
    // Run with fewer and fewer file handles: wherever the run stops for lack of them, it says
    // so, and never sends the admin to make the mirror writable.
    let mut said = 0;
    for limit in (6..=40).rev() {
        let mut cmd = ws.command(&["sync"], Some(&ws.api_key));
        // SAFETY: setrlimit is async-signal-safe, and nothing else runs between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                let lim = libc::rlimit { rlim_cur: limit, rlim_max: limit };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &raw const lim) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let run = ws.output(cmd).await;
        assert!(!run.stderr.contains("writable"), "limit {limit}: {}", run.stderr);
        if run.stderr.contains("run out of file handles") {
            said += 1;
        }
    }
    assert!(said > 0, "no run stopped for lack of file handles");
}

/// Starts the daemon on `ws` (every second, metrics on a free loopback port) with its limit
/// on open files set to `soft` and `hard` before it starts.
async fn daemon_with_file_limit(ws: &Workspace, soft: u64, hard: u64) -> crate::daemon::Daemon {
    ws.append_config(crate::daemon::EVERY_SECOND);
    ws.append_config("[metrics]\nlisten = \"127.0.0.1:0\"\n");
    let mut cmd = ws.command(&["daemon"], Some(&ws.api_key));
    cmd.env_remove("WATCHDOG_USEC").env_remove("WATCHDOG_PID");
    // SAFETY: setrlimit is async-signal-safe, and nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            let lim = libc::rlimit { rlim_cur: soft as libc::rlim_t, rlim_max: hard as libc::rlim_t };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raw const lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let d = crate::daemon::Daemon::spawn(cmd, &ws.path("notify.sock"));
    d.wait_log("Sync finished", 10).await;
    d
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_connections_to_the_metrics_port_do_not_starve_the_syncs() {
    let ws = Workspace::new().await;
    ws.write_n(2);
    // 400 idle connections against a process that may hold 160 files: before, accepting them
    // took every handle and the scheduled runs could not open the mirror.
    let d = daemon_with_file_limit(&ws, 160, 160).await;
    let addr = d.metrics_addr();
    let mut idle = Vec::new();
    for _ in 0..400 {
        if let Ok(s) = tokio::net::TcpStream::connect(&addr).await {
            idle.push(s);
        }
    }
    let runs = d.count("Sync finished");
    ws.write_n(4);
    d.wait_for("three more scheduled runs", 15, |d| d.count("Sync finished") >= runs + 3).await;
    let log = d.log();
    assert!(!log.contains("Sync failed"), "{log}");
    assert!(!log.contains("Too many open files"), "{log}");
    ws.assert_exactly(&crate::support::ids(1..=4));
    drop(idle);
    let (code, _, log) = d.stop().await;
    assert_eq!(code, 0, "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_process_raises_its_file_limit_to_what_it_may_need() {
    let ws = Workspace::new().await;
    ws.write_n(1);
    let d = daemon_with_file_limit(&ws, 256, 4096).await;
    let pid = d.pid();
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = limits.lines().find(|l| l.starts_with("Max open files")).unwrap().to_owned();
    let numbers: Vec<&str> = line.split_whitespace().filter(|w| w.chars().all(|c| c.is_ascii_digit())).collect();
    assert_eq!(numbers, ["4096", "4096"], "{line}");
    let (code, _, log) = d.stop().await;
    assert_eq!(code, 0, "{log}");
}
