//! The mapping file (`mapping.toml`): which column feeds which OpenPhone field. [`load`] reads
//! it strictly into a [`Mapping`] ([`mod@file`]); [`bind`] ties it to a source header and the
//! workspace's custom fields ([`catalog`]), giving the [`Mapper`] that turns a row into a contact. This
//! module only declares and re-exports.

pub mod bind;
pub mod catalog;
pub mod convert;
pub mod file;
pub mod identity;
pub mod limits;
pub mod load;
pub mod mapper;
pub mod phone;
#[cfg(test)]
mod phone_differential;
pub mod records;
pub mod region_hint;
pub mod warning;

pub use catalog::FieldCatalog;
pub use file::{ColumnRef, CustomMapping, DefaultPolicies, FieldRef, IdMapping, ItemMapping, Mapping, OnInvalid};
pub use identity::HASHED_ID_LEN;
pub use mapper::{MappedRow, Mapper};
pub use warning::Warning;
