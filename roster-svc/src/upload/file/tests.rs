use encoding_rs::WINDOWS_1252;

use super::*;

const HEADER: &str =
    "student_code,parent_code,first_name,last_name,email,phone,home_phone,language";
const EXPECTED: &str = "Expected: student_code, parent_code, first_name, last_name, email, phone, home_phone, language";

fn read_str(text: &str) -> Result<UploadFile, FileError> {
    read(text.as_bytes())
}

fn rows(file: &UploadFile) -> Vec<&InputRow> {
    file.rows
        .iter()
        .map(|read| match read {
            RowRead::Row(row) => row,
            RowRead::Broken { line, reason, .. } => panic!("line {line} broken: {reason}"),
        })
        .collect()
}

fn header_error(text: &str) -> String {
    match read_str(text) {
        Err(FileError::Headers(message)) => message,
        other => panic!("expected a header error, got {other:?}"),
    }
}

fn guardian(line: u64, first_name: &str, last_name: &str) -> InputRow {
    InputRow {
        line,
        student_code: "S1".into(),
        parent_code: "P1".into(),
        first_name: first_name.into(),
        last_name: last_name.into(),
        email: "g@example.org".into(),
        phone: "+1 555 0100".into(),
        home_phone: String::new(),
        language: "es".into(),
    }
}

#[test]
fn a_utf8_file_with_a_bom_and_crlf_lines_reads_as_utf8() {
    let text = format!(
        "\u{feff}{HEADER}\r\nS1,P1,Ana,Müller,g@example.org,+1 555 0100,,es\r\n\
         S1,P1,José,Núñez,g@example.org,+1 555 0100,,es\r\n"
    );
    let file = read_str(&text).unwrap();
    assert_eq!(file.encoding, Encoding::Utf8);
    assert_eq!(file.encoding.as_str(), "utf-8");
    assert_eq!(
        rows(&file),
        [&guardian(2, "Ana", "Müller"), &guardian(3, "José", "Núñez")]
    );
}

#[test]
fn windows_1252_bytes_for_muller_and_jose_are_decoded() {
    let text = format!(
        "{HEADER}\r\nS1,P1,Ana,Müller,g@example.org,+1 555 0100,,es\r\n\
         S1,P1,José,Núñez,g@example.org,+1 555 0100,,es\r\n"
    );
    let (bytes, _, unmappable) = WINDOWS_1252.encode(&text);
    assert!(!unmappable);
    assert!(
        std::str::from_utf8(&bytes).is_err(),
        "the test needs non-UTF-8 bytes"
    );
    let file = read(&bytes).unwrap();
    assert_eq!(file.encoding, Encoding::Windows1252);
    assert_eq!(file.encoding.as_str(), "windows-1252");
    assert_eq!(
        rows(&file),
        [&guardian(2, "Ana", "Müller"), &guardian(3, "José", "Núñez")]
    );
}

#[test]
fn a_windows_1252_header_is_quoted_back_decoded() {
    let text = "student_code,parent_code,prénom,last_name,email,phone,home_phone,language\nS1,P1,A,B,,,,\n";
    let (bytes, _, _) = WINDOWS_1252.encode(text);
    let Err(FileError::Headers(message)) = read(&bytes) else {
        panic!("expected a header error");
    };
    assert!(
        message.starts_with("Unexpected header \"prénom\"."),
        "{message}"
    );
}

#[test]
fn headers_in_another_order_are_read_by_name() {
    let text = "language,email,last_name,first_name,home_phone,phone,parent_code,student_code\n\
                es,g@example.org,Müller,Ana,,+1 555 0100,P1,S1\n";
    let file = read_str(text).unwrap();
    assert_eq!(rows(&file), [&guardian(2, "Ana", "Müller")]);
}

#[test]
fn cells_come_back_in_headers_order() {
    let row = guardian(2, "Ana", "Müller");
    assert_eq!(
        row.cells(),
        [
            "S1",
            "P1",
            "Ana",
            "Müller",
            "g@example.org",
            "+1 555 0100",
            "",
            "es"
        ]
    );
}

#[test]
fn an_extra_column_is_named() {
    let message = header_error(&format!("{HEADER},notes\nS1,P1,A,B,,,,,x\n"));
    assert_eq!(message, format!("Unexpected header \"notes\". {EXPECTED}"));
}

#[test]
fn a_missing_header_is_listed_with_the_expected_ones() {
    let text =
        "student_code,parent_code,first_name,last_name,email,phone,home_phone\nS1,P1,A,B,,,\n";
    assert_eq!(
        header_error(text),
        format!("Missing header \"language\". {EXPECTED}")
    );
}

#[test]
fn a_misspelt_header_is_unexpected_and_its_column_missing() {
    let text = "student_code,parent_code,first_name,last_name,mail,phone,home_phone,language\nS1,P1,A,B,,,,\n";
    assert_eq!(
        header_error(text),
        format!("Unexpected header \"mail\". Missing header \"email\". {EXPECTED}")
    );
}

#[test]
fn a_header_differing_only_by_case_is_misspelt_not_accepted() {
    let text = "student_code,parent_code,first_name,last_name,Email,phone,home_phone,language\nS1,P1,A,B,,,,\n";
    assert_eq!(
        header_error(text),
        format!(
            "Unexpected header \"Email\" (did you mean \"email\"?). Missing header \"email\". {EXPECTED}"
        )
    );
}

#[test]
fn a_duplicated_header_is_an_error() {
    let message = header_error(&format!("{HEADER},email\nS1,P1,A,B,,,,,\n"));
    assert_eq!(message, format!("Duplicate header \"email\". {EXPECTED}"));
}

#[test]
fn several_header_problems_are_combined_in_one_message() {
    let text = "student_code,first_name,last_name,mail,phone,phone,tel,,language\nx\n";
    assert_eq!(
        header_error(text),
        format!(
            "Unexpected headers \"mail\", \"tel\". Missing headers \"parent_code\", \"email\", \"home_phone\". \
             Duplicate header \"phone\". Column 8 has no header. {EXPECTED}"
        )
    );
}

#[test]
fn a_semicolon_separated_file_is_told_to_use_commas() {
    let message = header_error(&format!("{}\nS1;P1\n", HEADER.replace(',', ";")));
    assert!(
        message.starts_with(
            "Unexpected header \"student_code;parent_code;first_name;last…\" \
             (columns must be separated by commas)."
        ),
        "{message}"
    );
}

#[test]
fn header_names_are_trimmed_before_they_are_compared() {
    let text = format!(
        "{}\nS1,P1,Ana,Müller,g@example.org,+1 555 0100,,es\n",
        HEADER.replace(',', " ,\t")
    );
    assert_eq!(
        rows(&read_str(&text).unwrap()),
        [&guardian(2, "Ana", "Müller")]
    );
}

#[test]
fn an_empty_file_is_a_file_error() {
    for text in ["", "   ", "\r\n\r\n", " \n\t\n", ",,,\n"] {
        assert_eq!(read_str(text), Err(FileError::Empty), "{text:?}");
    }
    assert_eq!(FileError::Empty.to_string(), "The file is empty");
}

#[test]
fn a_file_of_only_a_bom_is_empty() {
    assert_eq!(read(b"\xEF\xBB\xBF"), Err(FileError::Empty));
    assert_eq!(read(b"\xEF\xBB\xBF\r\n  \r\n"), Err(FileError::Empty));
}

#[test]
fn a_header_only_file_is_a_file_error() {
    for text in [
        HEADER.to_owned(),
        format!("{HEADER}\n"),
        format!("{HEADER}\r\n"),
        format!("\u{feff}{HEADER}\r\n\r\n  \r\n"),
    ] {
        assert_eq!(read_str(&text), Err(FileError::HeaderOnly), "{text:?}");
    }
    assert_eq!(
        FileError::HeaderOnly.to_string(),
        "The file has a header but no rows"
    );
}

#[test]
fn a_quoted_cell_with_a_comma_and_line_breaks_keeps_later_line_numbers_right() {
    let text = format!(
        "{HEADER}\r\n\
         S1,P1,\"Ana, Maria\",\"Müller\r\nSchmidt\",g@example.org,+1 555 0100,,es\r\n\
         S1,P1,\"José\",\"say \"\"hi\"\"\nthere\",g@example.org,+1 555 0100,,es\n\
         S1,P1,Bo,Li,g@example.org,+1 555 0100,,es\n"
    );
    let file = read_str(&text).unwrap();
    assert_eq!(
        rows(&file),
        [
            &guardian(2, "Ana, Maria", "Müller\r\nSchmidt"),
            &guardian(4, "José", "say \"hi\"\nthere"),
            &guardian(6, "Bo", "Li"),
        ]
    );
}

#[test]
fn blank_lines_are_skipped_and_later_rows_keep_their_physical_lines() {
    let text = format!(
        "\n{HEADER}\n\nS1,P1,Ana,Müller,g@example.org,+1 555 0100,,es\n   \n,,,,,,,\n\
         S1,P1,José,Núñez,g@example.org,+1 555 0100,,es\n\n\r\n  \n"
    );
    let file = read_str(&text).unwrap();
    assert_eq!(
        rows(&file),
        [&guardian(4, "Ana", "Müller"), &guardian(7, "José", "Núñez")]
    );
}

#[test]
fn line_numbers_count_crlf_lf_and_lone_cr_line_breaks_alike() {
    let row = "S1,P1,Ana,Müller,g@example.org,+1 555 0100,,es";
    for (text, lines) in [
        (
            format!("{HEADER}\r\n\r\n\r\n{row}\r\n \r\n{row}\r\n"),
            [4, 6],
        ),
        (format!("\r\n{HEADER}\r\n{row}\r\n\r\n{row}"), [3, 5]),
        (format!("{HEADER}\r{row}\r\r{row}\r"), [2, 4]),
        (format!("{HEADER}\n{row}\r\n\n\r{row}\n"), [2, 5]),
    ] {
        let file = read_str(&text).unwrap();
        let read: Vec<u64> = file.rows.iter().map(RowRead::line).collect();
        assert_eq!(read, lines, "{text:?}");
    }
}

#[test]
fn a_short_row_is_broken_and_the_next_row_still_reads() {
    let text = format!(
        "{HEADER}\nS1,P1,Ana,Müller,g@example.org\nS1,P1,José,Núñez,g@example.org,+1 555 0100,,es\n"
    );
    let file = read_str(&text).unwrap();
    assert_eq!(
        file.rows,
        [
            RowRead::Broken {
                line: 2,
                raw: ["S1", "P1", "Ana", "Müller", "g@example.org", "", "", ""]
                    .map(String::from)
                    .to_vec(),
                reason: "The row has 5 cells but the header has 8".into(),
            },
            RowRead::Row(guardian(3, "José", "Núñez")),
        ]
    );
    assert_eq!(file.rows[0].line(), 2);
    assert_eq!(file.rows[1].line(), 3);
}

#[test]
fn a_long_row_is_broken_with_a_hint_about_quoting() {
    let text = format!("{HEADER}\nS1,P1,Ana,Müller, Jr.,g@example.org,+1 555 0100,,es\n");
    let file = read_str(&text).unwrap();
    let [RowRead::Broken { line, raw, reason }] = file.rows.as_slice() else {
        panic!("expected one broken row: {:?}", file.rows);
    };
    assert_eq!(*line, 2);
    assert_eq!(
        raw,
        &[
            "S1",
            "P1",
            "Ana",
            "Müller",
            "Jr.",
            "g@example.org",
            "+1 555 0100",
            "",
            "es"
        ]
    );
    assert_eq!(
        reason,
        "The row has 9 cells but the header has 8; a value containing a comma must be in double quotes"
    );
}

#[test]
fn a_broken_row_gives_its_cells_in_headers_order() {
    let text = "language,email,last_name,first_name,home_phone,phone,parent_code,student_code\n\
                es,g@example.org,Müller\n";
    let file = read_str(text).unwrap();
    let [RowRead::Broken { raw, reason, .. }] = file.rows.as_slice() else {
        panic!("expected one broken row: {:?}", file.rows);
    };
    assert_eq!(raw, &["", "", "", "Müller", "g@example.org", "", "", "es"]);
    assert_eq!(reason, "The row has 3 cells but the header has 8");
}

#[test]
fn cells_are_trimmed_of_surrounding_whitespace() {
    let text = format!(
        "{HEADER}\r\n  S1 ,\tP1,\" Ana \",Müller\u{a0},  g@example.org  ,+1 555 0100,   ,es \r\n"
    );
    let file = read_str(&text).unwrap();
    assert_eq!(rows(&file), [&guardian(2, "Ana", "Müller")]);
}

#[test]
fn a_last_row_without_a_final_newline_is_read() {
    let text = format!(
        "{HEADER}\r\nS1,P1,Ana,Müller,g@example.org,+1 555 0100,,es\r\nS1,P1,José,Núñez,g@example.org,+1 555 0100,,es"
    );
    let file = read_str(&text).unwrap();
    assert_eq!(
        rows(&file),
        [&guardian(2, "Ana", "Müller"), &guardian(3, "José", "Núñez")]
    );
}

#[test]
fn workbooks_and_utf16_are_refused_as_not_csv() {
    let cases: [&[u8]; 4] = [
        b"PK\x03\x04\x14\x00\x06\x00",
        b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1",
        b"\xFF\xFEs\x00t\x00",
        b"student_code\x00\x01\x02",
    ];
    for bytes in cases {
        let error = read(bytes).unwrap_err();
        assert!(
            matches!(error, FileError::Unreadable(_)),
            "{bytes:?}: {error:?}"
        );
        let message = error.to_string();
        assert!(
            message.starts_with("The file could not be read: it ")
                || message.starts_with("The file could not be read: line 1: byte 0x00"),
            "{message}"
        );
    }
}

#[test]
fn count_rows_counts_what_read_returns() {
    let text = format!("{HEADER}\n\nS1,P1,A,B,,,,\nshort\n\n,,\n\"x\ny\",P1,A,B,,,,\n");
    assert_eq!(count_rows(text.as_bytes()), Ok(3));
    assert_eq!(read_str(&text).unwrap().rows.len(), 3);
    assert_eq!(count_rows(b""), Ok(0));
    assert_eq!(count_rows(HEADER.as_bytes()), Ok(0));
}

#[test]
fn arbitrary_bytes_never_panic() {
    let alphabet: &[u8] = b",\"\r\n \tSa\xEF\xBB\xBF\xC3\xA9\xE9\x00";
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..2000 {
        let len = (next() % 64) as usize;
        let bytes: Vec<u8> = (0..len)
            .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
            .collect();
        let _ = read(&bytes);
        let _ = count_rows(&bytes);
        let mut file = format!("{HEADER}\n").into_bytes();
        file.extend(&bytes);
        if let Ok(upload) = read(&file) {
            assert!(upload.rows.iter().all(|row| row.line() >= 2));
        }
    }
}

#[test]
fn bytes_that_are_text_in_neither_utf8_nor_windows_1252_refuse_the_file_naming_the_line() {
    let row = "S1,P1,Ana,Muller,g@example.org,+1 555 0100,,es";
    for (bad, line) in [
        (0x81u8, 3),
        (0x8D, 3),
        (0x8F, 3),
        (0x90, 3),
        (0x9D, 3),
        (0x00, 3),
    ] {
        let mut bytes = format!("{HEADER}\r\n{row}\r\nS2,P2,Jos").into_bytes();
        bytes.extend([0xE9, bad]); // "José" in Windows-1252, then the bad byte
        bytes.extend(b",Nunez,j@example.org,,,\r\n");
        let e = read(&bytes).unwrap_err();
        let message = e.to_string();
        assert!(
            message.contains(&format!("line {line}")) && message.contains(&format!("0x{bad:02X}")),
            "{message}"
        );
    }
    // Windows-1252 text without them reads.
    let mut ok = format!("{HEADER}\r\nS2,P2,Jos").into_bytes();
    ok.extend([0xE9]);
    ok.extend(b",Nunez,j@example.org,,,\r\n");
    assert_eq!(read(&ok).unwrap().encoding, Encoding::Windows1252);
}
