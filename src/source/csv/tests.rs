//! The CSV reader's unit tests: line numbers, quotes, encodings, headers, `sep=`.

use super::*;
use crate::config::encoding::TextEncoding;
use crate::source::error::SourceError;
use crate::source::row::SourceData;

fn parse(bytes: &[u8]) -> SourceData {
    read(bytes, b',', "t.csv").unwrap()
}

#[test]
fn bom_crlf_quotes_and_line_numbers() {
    let data = parse(b"\xef\xbb\xbfID,Name\r\n1,\"Doe, Jane\"\r\n\r\n2,\"multi\nline \"\"q\"\"\"\r\n3,x\r\n");
    assert_eq!(data.header, vec!["ID", "Name"]);
    let rows: Vec<(u64, &str)> = data.rows.iter().map(|r| (r.row, &r.cells[1])).collect();
    assert_eq!(rows, vec![(2, "Doe, Jane"), (4, "multi\nline \"q\""), (6, "x")]);
    assert!(data.errors.is_empty());
}

#[test]
fn a_quote_never_closed_is_a_file_error_at_its_line() {
    // Read as the csv crate does, rows 4 and 5 would vanish into row 3's second cell.
    let err = read(&b"ID,Name\r\n1,a\r\n\r\n3,\"b\r\n4,c\r\n5,d\r\n"[..], b',', "t.csv").unwrap_err();
    assert!(err.is_config());
    assert!(err.to_string().starts_with("t.csv:4: a quote opened on this line is never closed"), "{err}");
    // Closed quotes, doubled quotes and a quote inside an unquoted field are fine.
    let data = parse(b"ID,Name\n1,\"a\n\"\"b\"\"\"\n2,x\"y\n3,z\n");
    assert_eq!(data.rows.iter().map(|r| r.row).collect::<Vec<_>>(), vec![2, 4, 5]);
    assert_eq!(&data.rows[1].cells[1], "x\"y");
}

#[test]
fn line_numbers_in_cr_files() {
    let data = parse(b"ID,Name\r1,a\r\r2,\"m\rl\"\r3,x\r");
    let rows: Vec<u64> = data.rows.iter().map(|r| r.row).collect();
    assert_eq!(rows, vec![2, 4, 6]);
}

#[test]
fn line_numbers_in_lf_files_and_without_a_final_newline() {
    let data = parse(b"ID,Name\n1,a\n\n2,\"m\nl\"\n\n\n3,x");
    let rows: Vec<u64> = data.rows.iter().map(|r| r.row).collect();
    assert_eq!(rows, vec![2, 4, 8]);
}

#[test]
fn ragged_rows_and_nul_bytes_are_row_errors() {
    let data = parse(b"ID,Name\n1,a\n2\n3,x\0y\n4,b,c\n5,ok\n6,ok,,\n");
    assert_eq!(data.rows.iter().map(|r| r.row).collect::<Vec<_>>(), vec![2, 6, 7]);
    assert_eq!(data.rows[2].cells, vec!["6", "ok"]);
    let errs: Vec<u64> = data.errors.iter().map(|e| e.row).collect();
    assert_eq!(errs, vec![3, 4, 5]);
    assert!(data.errors[1].message.contains("field 2 holds a NUL byte"), "{}", data.errors[1].message);
}

#[test]
fn a_file_that_is_not_utf8_is_a_file_error_with_its_line() {
    let err = read(&b"ID,Name\n1,a\n\n3,Ren\xe9\n"[..], b',', "t.csv").unwrap_err();
    assert!(err.is_config());
    let msg = err.to_string();
    assert!(msg.starts_with("t.csv:4: field 2 is not UTF-8: the file looks like windows-125"), "{msg}");
    assert!(msg.contains("CSV UTF-8"), "{msg}");
    let err = read(&b"\xff\xfeI\0D\0\n\0"[..], b',', "t.csv").unwrap_err();
    assert!(err.to_string().contains("UTF-16"), "{err}");
    let err = read(&b"I\0D\0\n\0"[..], b',', "t.csv").unwrap_err();
    assert!(err.to_string().contains("NUL"), "{err}");
}

#[test]
fn other_encodings_by_name_or_detected_and_suggested() {
    // "Имя,Телефон\nИван,1\n" in Windows-1251.
    let cp1251: &[u8] = b"\xc8\xec\xff,\xd2\xe5\xeb\xe5\xf4\xee\xed\n\xc8\xe2\xe0\xed \xcf\xe5\xf2\xf0\xee\xe2,1\n";
    let err = read(cp1251, b',', "t.csv").unwrap_err().to_string();
    assert!(err.starts_with("t.csv:1: field 1 is not UTF-8: the file looks like windows-1251"), "{err}");
    assert!(err.contains("set [source] encoding = \"windows-1251\""), "{err}");
    for encoding in [TextEncoding::parse("windows-1251").unwrap(), TextEncoding::Auto] {
        let options = CsvOptions { encoding, ..CsvOptions::default() };
        let data = read_with(cp1251, &options, "t.csv").unwrap();
        assert_eq!(data.header, vec!["Имя", "Телефон"]);
        assert_eq!(&data.rows[0].cells[0], "Иван Петров");
    }
    // Auto keeps UTF-8 as it is.
    let options = CsvOptions { encoding: TextEncoding::Auto, ..CsvOptions::default() };
    assert_eq!(read_with("ID,Näme\n1,é\n".as_bytes(), &options, "t.csv").unwrap().header[1], "Näme");
    assert!(TextEncoding::parse("klingon").is_err());
    assert!(TextEncoding::parse("iso-2022-kr").is_err());
    // UTF-16 (Excel's "Unicode Text") by name or by its byte order mark.
    let utf16: Vec<u8> =
        [0xff, 0xfe].into_iter().chain("ID\tName\r\n1\tRené\r\n".encode_utf16().flat_map(u16::to_le_bytes)).collect();
    for encoding in [TextEncoding::parse("utf-16le").unwrap(), TextEncoding::Auto] {
        let options = CsvOptions { encoding, delimiter: b'\t', ..CsvOptions::default() };
        let data = read_with(&utf16[..], &options, "t.csv").unwrap();
        assert_eq!((data.header[1].as_str(), &data.rows[0].cells[1], data.rows[0].row), ("Name", "René", 2));
    }
    assert_eq!(TextEncoding::parse("UTF8"), Ok(TextEncoding::Utf8));
}

#[test]
fn the_header_is_found_below_notes_or_at_its_line() {
    let text = b"Notes:\n\"Some notes, with a comma\"\n\nFirst Name,Email\nAnn,a@x.io\n";
    let find =
        CsvOptions { header: HeaderAt::Find(vec!["First Name".into(), "Email".into()]), ..CsvOptions::default() };
    let data = read_with(&text[..], &find, "t.csv").unwrap();
    assert_eq!(data.header, vec!["First Name", "Email"]);
    assert_eq!((data.rows[0].row, data.errors.len()), (5, 0));
    let at = CsvOptions { header: HeaderAt::Line(4), ..CsvOptions::default() };
    assert_eq!(read_with(&text[..], &at, "t.csv").unwrap().header, vec!["First Name", "Email"]);
    // No line holds every column: the first line is the header (the mapping says what it lacks).
    let find = CsvOptions { header: HeaderAt::Find(vec!["Phone".into()]), ..CsvOptions::default() };
    assert_eq!(read_with(&text[..], &find, "t.csv").unwrap().header, vec!["Notes:"]);
}

#[test]
fn excel_sep_line_sets_the_delimiter_and_counts_as_a_line() {
    let data = parse(b"\xef\xbb\xbfsep=;\r\nID;Name;;\r\n1;\"a;b\";;\r\n2;c\r\n");
    assert_eq!(data.header, vec!["ID", "Name"]);
    let rows: Vec<(u64, &str)> = data.rows.iter().map(|r| (r.row, &r.cells[1])).collect();
    assert_eq!(rows, vec![(3, "a;b"), (4, "c")]);
    // Not a sep line: a header that starts with "sep=".
    let data = parse(b"sep=x,y\n1,2\n");
    assert_eq!(data.header, vec!["sep=x", "y"]);
}

#[test]
fn empty_input_has_no_header() {
    assert!(matches!(read(&b""[..], b',', "t.csv"), Err(SourceError::NoHeader { .. })));
    assert!(matches!(read(&b"\n\n"[..], b',', "t.csv"), Err(SourceError::NoHeader { .. })));
}

#[test]
fn blank_rows_and_delimiter() {
    let data = read(&b"ID;Name\n1;a\n;\n2;b\n"[..], b';', "t.csv").unwrap();
    assert_eq!(data.rows.len(), 2);
    assert_eq!(data.rows[1].row, 4);
}
