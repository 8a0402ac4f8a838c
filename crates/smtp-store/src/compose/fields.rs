//! Framing of the header section: where each header field starts and ends, in bytes.
//!
//! Framing only, no decoding: the stored message stays byte-for-byte as sent, so composing needs
//! exact offsets to remove one field or extend another. Lines end in LF or CRLF (a bare CR is
//! line content). The header section is the run of lines from the start that are header fields
//! (`name:` with RFC 5322 field-name characters, optionally spaces before the colon as the obsolete
//! syntax allows) or their folded continuations (starting with a space or tab); it ends at the
//! first blank line or at the first line that is neither, and may be empty.

/// One header field of the original message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Field {
    /// First byte of the field (and of its name).
    pub start: usize,
    /// End of the name (spaces before the colon excluded).
    pub name_end: usize,
    /// First byte after the colon.
    pub value_start: usize,
    /// Start of the field's last line (its first line unless folded).
    pub last_line_start: usize,
    /// End of the last line without its line ending.
    pub content_end: usize,
    /// End of the field including its line ending.
    pub end: usize,
}

impl Field {
    /// Whether the field's name is `name`, ignoring ASCII case.
    pub fn is(&self, data: &[u8], name: &str) -> bool {
        data[self.start..self.name_end].eq_ignore_ascii_case(name.as_bytes())
    }

    /// Whether the value holds nothing but white space and line breaks.
    pub fn value_is_blank(&self, data: &[u8]) -> bool {
        data[self.value_start..self.content_end]
            .iter()
            .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
    }

    /// Whether the last line's content ends in a space or tab.
    pub fn ends_in_space(&self, data: &[u8]) -> bool {
        matches!(
            data[self.last_line_start..self.content_end].last(),
            Some(b' ' | b'\t')
        )
    }

    /// The line ending the field uses; CRLF when the field ends the data without one.
    pub fn line_ending(&self, data: &[u8]) -> &'static str {
        match &data[self.content_end..self.end] {
            b"\n" => "\n",
            _ => "\r\n",
        }
    }
}

/// The header fields at the start of `data`, in order.
pub(super) fn header_fields(data: &[u8]) -> Vec<Field> {
    let mut fields: Vec<Field> = Vec::new();
    for line in lines(data) {
        let content = &data[line.start..line.content_end];
        let Some(&first) = content.first() else {
            break; // the blank line between header and body
        };
        if first == b' ' || first == b'\t' {
            let Some(field) = fields.last_mut() else {
                break; // a folded line with nothing to fold into: not a header section
            };
            field.last_line_start = line.start;
            field.content_end = line.content_end;
            field.end = line.end;
            continue;
        }
        let Some((name_len, value_offset)) = split_field_name(content) else {
            break;
        };
        fields.push(Field {
            start: line.start,
            name_end: line.start + name_len,
            value_start: line.start + value_offset,
            last_line_start: line.start,
            content_end: line.content_end,
            end: line.end,
        });
    }
    fields
}

/// For a line that starts a header field: the name's length and the offset just past the colon.
fn split_field_name(line: &[u8]) -> Option<(usize, usize)> {
    let name_len = line.iter().take_while(|&&b| is_ftext(b)).count();
    if name_len == 0 {
        return None;
    }
    let spaces = line[name_len..]
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    let colon = name_len + spaces;
    (line.get(colon) == Some(&b':')).then_some((name_len, colon + 1))
}

/// RFC 5322 `ftext`: printable US-ASCII except the colon.
fn is_ftext(b: u8) -> bool {
    matches!(b, 33..=57 | 59..=126)
}

/// One line: `start..content_end` is its content, `content_end..end` its line ending (if any).
#[derive(Clone, Copy, Debug)]
struct Line {
    start: usize,
    content_end: usize,
    end: usize,
}

/// The lines of `data`, each ending after LF (a CR right before the LF belongs to the ending);
/// the last line may have no ending.
fn lines(data: &[u8]) -> impl Iterator<Item = Line> + '_ {
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= data.len() {
            return None;
        }
        let line = match data[start..].iter().position(|&b| b == b'\n') {
            Some(offset) => {
                let lf = start + offset;
                let has_cr = lf > start && data[lf - 1] == b'\r';
                Line {
                    start,
                    content_end: if has_cr { lf - 1 } else { lf },
                    end: lf + 1,
                }
            }
            None => Line {
                start,
                content_end: data.len(),
                end: data.len(),
            },
        };
        start = line.end;
        Some(line)
    })
}
