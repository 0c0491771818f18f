//! The OpenPhone API: [`client::Client`] (the only code that speaks HTTP), the wire
//! types ([`wire`]) and the typed errors ([`error::ApiError`]).

pub mod client;
pub mod error;
pub mod retry;
pub mod throttle;
pub mod wire;

pub use client::Client;
pub use error::ApiError;
