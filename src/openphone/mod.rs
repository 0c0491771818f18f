//! The OpenPhone API: [`client::Client`] (the only code that speaks HTTP), batched
//! externalId lookups ([`mod@lookup`]), the wire types ([`wire`]), the typed errors
//! ([`error::ApiError`]) and the pace learned from the API's rate-limit fields
//! ([`ratelimit`], [`throttle`]).

pub mod client;
pub mod error;
pub mod lookup;
pub mod merge;
mod pace;
pub mod ratelimit;
pub mod retry;
pub mod throttle;
pub mod transport;
pub mod wire;

pub use client::Client;
pub use error::ApiError;
pub use lookup::{Found, Lookup, lookup};
