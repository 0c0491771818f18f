//! The workbook source (`[source] type = "workbook"`): an Excel or OpenDocument workbook
//! (`.xlsx`, `.xlsm`, `.xlsb`, `.xls`, `.ods`) read through `calamine`. One sheet (by name or
//! position, else the first), its header at `header_row` or the first row holding every
//! mapped column; rows numbered as the spreadsheet program shows them; cells typed (see
//! [`cells`]). The whole sheet is read on a blocking thread, behind the file guard of
//! [`stable`](crate::source::stable) (a workbook saved while it is read is read again).
//!
//! This module only declares and re-exports: [`cells`] a cell → [`Cell`](crate::source::Cell),
//! [`sheet`] the sheet → rows, [`source`] the file as a [`Source`](crate::source::Source).

pub mod cells;
pub mod sheet;
pub mod source;

pub use source::WorkbookSource;
