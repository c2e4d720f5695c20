//! A source file held in memory and the byte/line/column arithmetic every
//! output needs. Tree-sitter reports byte offsets; humans want 1-based
//! character columns and SARIF wants UTF-16 code units, so both are derived
//! here from one line index.

use std::path::PathBuf;

/// A half-open byte range into a file's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl From<std::ops::Range<usize>> for Span {
    fn from(r: std::ops::Range<usize>) -> Span {
        Span::new(r.start, r.end)
    }
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }
}

/// A 1-based line/column position. `column` counts Unicode scalar values,
/// `column_utf16` counts UTF-16 code units (what SARIF's `utf16CodeUnits` wants).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    pub line: usize,
    pub column: usize,
    pub column_utf16: usize,
}

#[derive(Debug)]
pub struct SourceFile {
    /// Path as shown to the user (relative to the working directory when possible).
    pub path: PathBuf,
    pub text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(path: PathBuf, text: String) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(memchr_lines(text.as_bytes()));
        SourceFile {
            path,
            text,
            line_starts,
        }
    }

    pub fn line_starts(&self) -> &[usize] {
        &self.line_starts
    }

    /// 0-based line index containing byte `offset`.
    pub fn line_index(&self, offset: usize) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        }
    }

    pub fn position(&self, offset: usize) -> Position {
        let offset = self.clamp_to_char_boundary(offset.min(self.text.len()));
        let line = self.line_index(offset);
        let prefix = &self.text[self.line_starts[line]..offset];
        Position {
            line: line + 1,
            column: prefix.chars().count() + 1,
            column_utf16: prefix.encode_utf16().count() + 1,
        }
    }

    /// The text of the 0-based line `index`, without its line terminator.
    pub fn line_text(&self, index: usize) -> &str {
        let start = self.line_starts[index];
        let end = self
            .line_starts
            .get(index + 1)
            .copied()
            .unwrap_or(self.text.len());
        self.text[start..end].trim_end_matches(['\n', '\r'])
    }

    pub fn slice(&self, span: Span) -> &str {
        let start = self.clamp_to_char_boundary(span.start.min(self.text.len()));
        let end = self.clamp_to_char_boundary(span.end.min(self.text.len()));
        &self.text[start..end.max(start)]
    }

    fn clamp_to_char_boundary(&self, mut offset: usize) -> usize {
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    }
}

/// The position of byte `offset` in `text` without building a line index
/// (for a single position: a syntax error, a configuration error).
pub fn position_of(text: &str, offset: usize) -> Position {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let prefix = &before[line_start..];
    Position {
        line: before.bytes().filter(|b| *b == b'\n').count() + 1,
        column: prefix.chars().count() + 1,
        column_utf16: prefix.encode_utf16().count() + 1,
    }
}

fn memchr_lines(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .map(|(i, _)| i + 1)
}

/// Why a source file's bytes could not be had.
#[derive(Debug)]
pub enum ReadError {
    /// A FIFO, device, socket or folder: reading it could block forever
    /// or never end. Holds what it is, for the message.
    NotRegular(&'static str),
    /// More bytes than the limit (for devices and growing files, at least
    /// `limit + 1`: the rest was never read).
    TooLarge(u64),
    Io(std::io::Error),
}

impl ReadError {
    /// Why the read failed, for a message; `limit` and `what` name the
    /// size limit that was passed (`"one file"`).
    pub fn describe(&self, limit: u64, what: &str) -> String {
        match self {
            ReadError::NotRegular(kind) => format!("{kind}, not a regular file"),
            ReadError::TooLarge(_) => format!("over the {} MB limit for {what}", limit >> 20),
            ReadError::Io(e) => e.to_string(),
        }
    }
}

/// What a path is, when it is not a regular file or a folder.
pub fn special_kind(file_type: std::fs::FileType) -> Option<&'static str> {
    if file_type.is_file() || file_type.is_dir() {
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return Some("a FIFO (named pipe)");
        }
        if file_type.is_char_device() || file_type.is_block_device() {
            return Some("a device");
        }
        if file_type.is_socket() {
            return Some("a socket");
        }
    }
    Some("not a regular file")
}

/// Read a source file: never blocks on a FIFO or device (its metadata is
/// checked before it is opened, the open does not wait for a writer, and
/// the opened handle is checked again in case the path was swapped), and
/// never reads more than `limit` bytes (plus one, to tell that there were
/// more), whatever the file claims its size is.
pub fn read_source(path: &std::path::Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    use std::io::Read;
    let meta = std::fs::metadata(path).map_err(ReadError::Io)?;
    if let Some(kind) = special_kind(meta.file_type()) {
        return Err(ReadError::NotRegular(kind));
    }
    if meta.is_dir() {
        return Err(ReadError::NotRegular("a folder"));
    }
    if meta.len() > limit {
        return Err(ReadError::TooLarge(meta.len()));
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(ReadError::Io)?;
    let meta = file.metadata().map_err(ReadError::Io)?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular(
            special_kind(meta.file_type()).unwrap_or("not a regular file"),
        ));
    }
    let mut bytes = Vec::with_capacity(meta.len().min(limit) as usize);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge(bytes.len() as u64));
    }
    Ok(bytes)
}

/// Identity of the bytes a file was analysed from: length and a hash, so
/// the report can tell whether a file read again is the same file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Digest {
    pub len: u64,
    pub hash: u64,
}

impl Digest {
    pub fn of(bytes: &[u8]) -> Digest {
        use std::hash::Hasher;
        // SipHash with fixed keys: the same in every run of this binary.
        let mut h = std::hash::DefaultHasher::new();
        h.write(bytes);
        Digest {
            len: bytes.len() as u64,
            hash: h.finish(),
        }
    }
}

/// How a file's bytes became text.
#[derive(Debug, PartialEq, Eq)]
pub enum Decoded {
    Utf8(String),
    /// Invalid UTF-8: the file is linted on a lossy decoding (invalid bytes
    /// become U+FFFD), which keeps byte offsets of the valid parts stable
    /// enough to point at findings, and the user is warned.
    Lossy(String),
    /// NUL bytes in the first 8 KiB: a binary file with a source extension.
    Binary,
}

pub fn decode(bytes: Vec<u8>) -> Decoded {
    let head = &bytes[..bytes.len().min(8192)];
    if head.contains(&0) {
        return Decoded::Binary;
    }
    match String::from_utf8(bytes) {
        Ok(mut s) => {
            if s.starts_with('\u{feff}') {
                // Keep offsets simple: a BOM becomes a space of the same
                // byte length would shift columns; drop it instead.
                s.drain(..3);
            }
            Decoded::Utf8(s)
        }
        Err(e) => Decoded::Lossy(String::from_utf8_lossy(e.as_bytes()).into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_chars_and_utf16_units() {
        let f = SourceFile::new("a.py".into(), "ab\nü😀x = 1\n".into());
        let x = f.text.find('x').unwrap();
        let p = f.position(x);
        assert_eq!(p.line, 2);
        assert_eq!(p.column, 3); // ü, 😀 are one char each
        assert_eq!(p.column_utf16, 4); // 😀 is two UTF-16 units
        assert_eq!(f.line_text(1), "ü😀x = 1");
        assert_eq!(position_of(&f.text, x), p);
        assert_eq!(position_of(&f.text, 0), f.position(0));
        assert_eq!(position_of("ab", 99), f.position(2));
    }

    #[test]
    fn reads_are_bounded_and_never_open_special_files() {
        let dir = tempfile::tempdir().unwrap();
        let small = dir.path().join("a.py");
        std::fs::write(&small, b"x = 1\n").unwrap();
        assert_eq!(read_source(&small, 6).unwrap(), b"x = 1\n");
        assert!(matches!(
            read_source(&small, 5),
            Err(ReadError::TooLarge(6))
        ));
        assert!(matches!(
            read_source(dir.path(), 100),
            Err(ReadError::NotRegular(_))
        ));
        #[cfg(unix)]
        {
            // A device reports size 0 and never ends: refused before opening.
            let zero = dir.path().join("zero.py");
            std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
            assert!(matches!(
                read_source(&zero, 100),
                Err(ReadError::NotRegular("a device"))
            ));
            // A FIFO without a writer: refused at once, never opened.
            let fifo = dir.path().join("pipe.js");
            let made = std::process::Command::new("mkfifo").arg(&fifo).status();
            if made.is_ok_and(|s| s.success()) {
                assert!(matches!(
                    read_source(&fifo, 100),
                    Err(ReadError::NotRegular("a FIFO (named pipe)"))
                ));
            }
        }
        assert_eq!(Digest::of(b"ab"), Digest::of(b"ab"));
        assert_ne!(Digest::of(b"ab"), Digest::of(b"ba"));
    }

    #[test]
    fn decode_classifies_binary_and_invalid_utf8() {
        assert_eq!(decode(b"a\0b".to_vec()), Decoded::Binary);
        assert!(matches!(decode(vec![b'a', 0xff, b'b']), Decoded::Lossy(s) if s == "a\u{fffd}b"));
        assert_eq!(decode(b"\xef\xbb\xbfx".to_vec()), Decoded::Utf8("x".into()));
    }
}
