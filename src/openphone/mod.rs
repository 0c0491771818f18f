//! The OpenPhone API: [`client::Client`] (the only code that speaks HTTP), batched
//! externalId lookups ([`lookup`]), the wire types ([`wire`]) and the typed errors
//! ([`error::ApiError`]).

pub mod client;
pub mod error;
pub mod lookup;
pub mod merge;
pub mod retry;
pub mod throttle;
pub mod transport;
pub mod wire;

pub use client::Client;
pub use error::ApiError;
pub use lookup::{Found, Lookup, lookup};
