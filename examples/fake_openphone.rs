//! `cargo run --example fake_openphone [PORT] [LATENCY_MS]`: serves the test suite's fake
//! OpenPhone workspace on 127.0.0.1 until Ctrl-C, to try a real (non-dry) sync without an
//! account. It prints the base URL and the API key to use, and the workspace's contact
//! count every few seconds.

#[path = "../tests/it/support/fake_openphone.rs"]
mod fake_openphone;

use std::time::Duration;

use fake_openphone::{CustomFieldDef, FakeOpenPhone, FakeOptions};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let latency = Duration::from_millis(args.next().and_then(|l| l.parse().ok()).unwrap_or(150));
    let def =
        |name: &str, key: &str, ty: &str| CustomFieldDef { name: name.into(), key: key.into(), field_type: ty.into() };
    let fake = FakeOpenPhone::start_on(
        port,
        FakeOptions {
            latency,
            custom_fields: vec![
                def("Lead Source", "66aa00000000000000000001", "string"),
                def("Interests", "66aa00000000000000000005", "multi-select"),
            ],
            ..FakeOptions::default()
        },
    )
    .await;
    println!("fake OpenPhone at {}  (OPENPHONE_API_KEY={})", fake.base_url(), fake.api_key());
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            () = tokio::time::sleep(Duration::from_secs(5)) => {
                println!("{} contacts, {} requests, {} answered 429", fake.contacts().len(), fake.requests().len(), fake.count_429());
            }
        }
    }
}
