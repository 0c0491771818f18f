//! The vCard source (`[source] type = "vcard"`): one `.vcf` file holding many cards, or a folder
//! of `.vcf` files, as iPhone/iCloud, Google Contacts, Outlook and Android export them (vCard
//! 2.1, 3.0 and 4.0), each card parsed by `calcard`. The mapping's columns name properties
//! ([`select`]); a card is one row, numbered by its place among the cards (row 3 is the third
//! card), and a card that cannot be read is reported by that number, its file and its first
//! line while the rest sync.
//!
//! This module only declares and re-exports: [`select`] a column → a card's values,
//! [`cards`] the file → cards, [`source`] the path as a [`Source`](crate::source::Source).

pub mod cards;
pub mod select;
pub mod source;

pub use source::VcardSource;
