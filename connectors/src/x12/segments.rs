//! The X12 tokenizer: reads segments one at a time from a byte stream.
//!
//! Each interchange declares its own delimiters in its fixed-width ISA header (106 characters):
//! the element separator is ISA character 4, the repetition separator ISA11 (5010; in 4010 ISA11
//! is the standards id `U`), the component separator ISA16 and the segment terminator the
//! character after ISA16. The reader re-reads them at every ISA, so a file may hold interchanges
//! with different delimiters.
//!
//! Invariants: memory is bounded by one read chunk plus the longest segment (`MAX_SEGMENT`);
//! whitespace between a terminator and the next segment (CR/LF, the indentation some files
//! carry) is skipped; segment numbers count from the first ISA of the file (ISA = segment 1), the
//! way errors cite them. Text that is not UTF-8 is read as Latin-1, so a stray byte in a name
//! never rejects a file.
use crate::feed::LoadError;
use std::io::{self, BufRead, Read};

/// Length of the fixed-width ISA header, terminator included.
pub const ISA_LEN: usize = 106;
/// A segment longer than this means the terminator is not the one the ISA declared.
pub const MAX_SEGMENT: usize = 1 << 20;
const CHUNK: usize = 64 * 1024;
/// Widths of ISA01..ISA16: the header is fixed-width so its delimiters can be found by position.
const ISA_WIDTHS: [usize; 16] = [2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1];

/// The delimiters one interchange declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delimiters {
    pub element: u8,
    pub component: u8,
    /// ISA11 when it is a separator (5010); `None` for the 4010 standards id.
    pub repetition: Option<u8>,
    pub segment: u8,
}

impl Delimiters {
    /// Reads the delimiters from the first 106 bytes of an ISA segment.
    pub fn from_isa(isa: &[u8]) -> Result<Self, String> {
        if isa.len() < ISA_LEN {
            return Err(format!(
                "the ISA header is {} characters; it must be {ISA_LEN} (fixed-width elements and the terminator)",
                isa.len()
            ));
        }
        if &isa[..3] != b"ISA" {
            return Err("the interchange does not start with ISA".into());
        }
        let element = isa[3];
        if element.is_ascii_alphanumeric() || element.is_ascii_whitespace() {
            return Err(format!("ISA character 4 {:?} cannot be an element separator", element as char));
        }
        // Walk the fixed widths: each element must end exactly where the separator is.
        let mut at = 3;
        for (i, width) in ISA_WIDTHS.iter().enumerate() {
            if isa[at] != element {
                return Err(format!(
                    "ISA{:02} does not start at character {} of the fixed-width ISA header",
                    i + 1,
                    at + 2
                ));
            }
            let value = &isa[at + 1..at + 1 + width];
            if i < 15 {
                if let Some(len) = value.iter().position(|&b| b == element) {
                    return Err(format!(
                        "ISA{:02} is {len} characters; the ISA header has fixed-width elements and ISA{:02} must have {width}",
                        i + 1,
                        i + 1
                    ));
                }
            }
            at += 1 + width;
        }
        let component = isa[104];
        let segment = isa[105];
        // ISA11 is a separator only when it is one (5010) and distinct from the others; some
        // senders repeat ISA16 there, which leaves no repetition separator rather than an error.
        let repetition = Some(isa[82])
            .filter(|b| !b.is_ascii_alphanumeric() && *b != b' ' && ![element, component, segment].contains(b));
        let named = [
            ("element separator", element),
            ("component separator (ISA16)", component),
            ("segment terminator", segment),
        ];
        for (name, b) in named {
            if b.is_ascii_alphanumeric() || b == b' ' {
                return Err(format!("the {name} {:?} is a letter, digit or space", b as char));
            }
            // Elements are sliced at delimiter bytes, which must therefore be single characters.
            if !b.is_ascii() {
                return Err(format!("the {name} is byte 0x{b:02X}, not an ASCII character"));
            }
        }
        if element == component || element == segment || component == segment {
            return Err("the ISA header declares the same character for two different delimiters".into());
        }
        Ok(Self { element, component, repetition, segment })
    }
}

/// One segment: its id and elements, borrowed from the reader until the next call.
#[derive(Debug, Clone, Copy)]
pub struct Segment<'a> {
    text: &'a str,
    /// End offset of the id and of each element in `text`.
    ends: &'a [u32],
    pub delims: Delimiters,
    /// 1-based position in the file, ISA = 1.
    pub number: u64,
}

impl<'a> Segment<'a> {
    pub fn id(&self) -> &'a str {
        &self.text[..self.ends[0] as usize]
    }
    /// Number of data elements (the id excluded), trailing empty ones included.
    pub fn len(&self) -> usize {
        self.ends.len() - 1
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Element `i` (1-based, as in `NM103`), the empty string when absent.
    pub fn element(&self, i: usize) -> &'a str {
        if i == 0 || i >= self.ends.len() {
            return "";
        }
        &self.text[self.ends[i - 1] as usize + 1..self.ends[i] as usize]
    }
    /// Component `j` (1-based) of composite element `i`, the empty string when absent.
    pub fn component(&self, i: usize, j: usize) -> &'a str {
        component(self.element(i), self.delims.component, j)
    }
    /// The whole segment as it was read (for messages).
    pub fn text(&self) -> &'a str {
        self.text
    }
    /// `segment 41 (SV1)`.
    pub fn at(&self) -> String {
        match self.id() {
            "" => format!("segment {}", self.number),
            id => format!("segment {} ({id})", self.number),
        }
    }
    /// `segment 41 (SV1), element SV102` or, for a component, `element SV101-2`.
    pub fn at_element(&self, i: usize, j: usize) -> String {
        format!("{}, element {}", self.at(), element_name(self.id(), i, j))
    }
}

/// `SV102`, or `SV101-2` for component 2 of SV101.
pub fn element_name(id: &str, i: usize, j: usize) -> String {
    if j == 0 {
        format!("{id}{i:02}")
    } else {
        format!("{id}{i:02}-{j}")
    }
}

/// Component `j` (1-based) of a composite value.
pub fn component(value: &str, sep: u8, j: usize) -> &str {
    if j == 0 {
        return value;
    }
    value.split(sep as char).nth(j - 1).unwrap_or("")
}

/// Streams segments out of any byte source.
pub struct SegmentReader<'r> {
    input: &'r mut dyn BufRead,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    delims: Option<Delimiters>,
    ends: Vec<u32>,
    latin1: String,
    count: u64,
    at_file_start: bool,
}

impl<'r> SegmentReader<'r> {
    pub fn new(input: &'r mut dyn BufRead) -> Self {
        Self {
            input,
            buf: vec![0; CHUNK],
            start: 0,
            end: 0,
            eof: false,
            delims: None,
            ends: Vec::with_capacity(32),
            latin1: String::new(),
            count: 0,
            at_file_start: true,
        }
    }

    /// Segments read so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The delimiters of the current interchange.
    pub fn delimiters(&self) -> Option<Delimiters> {
        self.delims
    }

    /// Makes at least `n` unread bytes available; false when the input ends first.
    fn fill(&mut self, n: usize) -> io::Result<bool> {
        while self.end - self.start < n {
            if self.eof {
                return Ok(false);
            }
            if self.start > 0 && (self.buf.len() - self.end < CHUNK / 2 || self.start == self.end) {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            if self.buf.len() - self.end < CHUNK / 2 {
                let len = self.buf.len();
                self.buf.resize(len * 2, 0);
            }
            let got = self.input.read(&mut self.buf[self.end..])?;
            if got == 0 {
                self.eof = true;
            }
            self.end += got;
        }
        Ok(true)
    }

    /// Skips whitespace (and a UTF-8 byte-order mark at the file start) before a segment.
    fn skip_space(&mut self) -> io::Result<()> {
        let term = self.delims.map(|d| d.segment);
        loop {
            if self.start == self.end && !self.fill(1)? {
                return Ok(());
            }
            if self.at_file_start && self.fill(3)? && self.buf[self.start..self.start + 3] == [0xEF, 0xBB, 0xBF] {
                self.start += 3;
            }
            self.at_file_start = false;
            let avail = &self.buf[self.start..self.end];
            // NUL padding and a DOS end-of-file mark (Ctrl-Z) count as whitespace too.
            let skip =
                avail.iter().position(|&b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0 | 0x1A) || Some(b) == term);
            match skip {
                Some(i) => {
                    self.start += i;
                    return Ok(());
                }
                None => self.start = self.end,
            }
        }
    }

    /// Finds the next segment's bytes: `(start, end, number)` with the terminator excluded.
    fn next_span(&mut self) -> Result<Option<(usize, usize, u64)>, LoadError> {
        self.skip_space()?;
        if self.start == self.end {
            return Ok(None);
        }
        let number = self.count + 1;
        let isa_next = self.fill(3)? && &self.buf[self.start..self.start + 3] == b"ISA";
        let (seg_start, seg_end) = if isa_next {
            // A new interchange: its delimiters are where the fixed widths say they are.
            let have = self.fill(ISA_LEN)?;
            let avail = (self.end - self.start).min(ISA_LEN);
            let head = &self.buf[self.start..self.start + avail];
            let d = if have {
                Delimiters::from_isa(head)
            } else {
                Err(format!("the file ends inside the ISA header ({avail} of {ISA_LEN} characters)"))
            };
            let d = d.map_err(|reason| LoadError::rejected(format!("segment {number} (ISA)"), reason))?;
            self.delims = Some(d);
            let s = self.start;
            self.start += ISA_LEN;
            (s, s + ISA_LEN - 1)
        } else {
            let Some(d) = self.delims else {
                let head = String::from_utf8_lossy(&self.buf[self.start..self.end.min(self.start + 40)]).into_owned();
                return Err(LoadError::rejected(
                    format!("segment {number}"),
                    format!("the file does not start with an ISA interchange header; it starts with {head:?}"),
                ));
            };
            let mut scanned = 0;
            loop {
                let avail = &self.buf[self.start + scanned..self.end];
                if let Some(i) = avail.iter().position(|&b| b == d.segment) {
                    let s = self.start;
                    let e = s + scanned + i;
                    self.start = e + 1;
                    break (s, e);
                }
                scanned = self.end - self.start;
                if scanned > MAX_SEGMENT {
                    return Err(LoadError::rejected(
                        format!("segment {number}"),
                        format!(
                            "no segment terminator {:?} within {MAX_SEGMENT} bytes: the file does not use the delimiters its ISA declares",
                            d.segment as char
                        ),
                    ));
                }
                if !self.fill(scanned + 1)? {
                    // The input ends without a terminator: take what is left as the last segment.
                    let s = self.start;
                    self.start = self.end;
                    break (s, self.end);
                }
            }
        };
        Ok(Some((seg_start, seg_end, number)))
    }

    /// The next segment, `None` at the end of the input.
    pub fn next_segment(&mut self) -> Result<Option<Segment<'_>>, LoadError> {
        // Empty segments (a doubled terminator, blank lines when the terminator is a newline) are skipped.
        let (seg_start, seg_end, number) = loop {
            match self.next_span()? {
                None => return Ok(None),
                Some((s, e, _)) if self.buf[s..e].iter().all(|b| b.is_ascii_whitespace()) => {}
                Some(span) => break span,
            }
        };
        self.count = number;
        let d = self.delims.ok_or_else(|| LoadError::rejected("segment 1", "no ISA header was read"))?;
        let mut raw = &self.buf[seg_start..seg_end];
        while let [rest @ .., b'\r' | b'\n'] = raw {
            raw = rest;
        }
        let text = match std::str::from_utf8(raw) {
            Ok(t) => t,
            Err(_) => {
                self.latin1.clear();
                self.latin1.extend(raw.iter().map(|&b| b as char));
                self.latin1.as_str()
            }
        };
        self.ends.clear();
        let sep = d.element;
        for (i, &b) in text.as_bytes().iter().enumerate() {
            if b == sep {
                self.ends.push(i as u32);
            }
        }
        self.ends.push(text.len() as u32);
        Ok(Some(Segment { text, ends: &self.ends, delims: d, number }))
    }
}

/// Whether `head` looks like UTF-16 text (X12 is ASCII, so every other byte of "ISA" is 0).
pub fn utf16_order(head: &[u8]) -> Option<bool> {
    match head {
        [0xFF, 0xFE, ..] => Some(true),
        [0xFE, 0xFF, ..] => Some(false),
        [a, 0, ..] if *a != 0 => Some(true),
        [0, b, ..] if *b != 0 => Some(false),
        _ => None,
    }
}

/// Re-encodes a UTF-16 stream as UTF-8 on the fly (some tools save EDI as "Unicode").
pub struct Utf16Reader<'r> {
    inner: &'r mut dyn BufRead,
    little_endian: bool,
    out: Vec<u8>,
    pos: usize,
    pending: Vec<u8>,
    started: bool,
}

impl<'r> Utf16Reader<'r> {
    pub fn new(inner: &'r mut dyn BufRead, little_endian: bool) -> Self {
        Self { inner, little_endian, out: Vec::new(), pos: 0, pending: Vec::new(), started: false }
    }

    fn refill(&mut self) -> io::Result<()> {
        self.out.clear();
        self.pos = 0;
        while self.out.is_empty() {
            let chunk = self.inner.fill_buf()?;
            if chunk.is_empty() {
                if !self.pending.is_empty() {
                    self.pending.clear();
                    self.out.extend_from_slice("\u{FFFD}".as_bytes());
                }
                return Ok(());
            }
            let n = chunk.len();
            self.pending.extend_from_slice(chunk);
            self.inner.consume(n);
            let whole = self.pending.len() / 2 * 2;
            let le = self.little_endian;
            let units = self.pending[..whole].chunks_exact(2).map(|p| {
                if le {
                    u16::from_le_bytes([p[0], p[1]])
                } else {
                    u16::from_be_bytes([p[0], p[1]])
                }
            });
            let mut units: Vec<u16> = units.collect();
            // Keep a high surrogate whose partner has not arrived yet.
            let mut keep = self.pending.len() - whole;
            if units.last().is_some_and(|u| (0xD800..0xDC00).contains(u)) {
                units.pop();
                keep += 2;
            }
            for c in char::decode_utf16(units) {
                let c = c.unwrap_or('\u{FFFD}');
                if !self.started {
                    self.started = true;
                    if c == '\u{FEFF}' {
                        continue;
                    }
                }
                let mut b = [0; 4];
                self.out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            }
            let len = self.pending.len();
            self.pending.drain(..len - keep);
        }
        Ok(())
    }
}

impl Read for Utf16Reader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(buf.len());
        buf[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Utf16Reader<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos >= self.out.len() {
            self.refill()?;
        }
        Ok(&self.out[self.pos..])
    }
    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.out.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISA: &str =
        "ISA*00*          *01*SECRET    *ZZ*SUBMITTERS.ID  *ZZ*RECEIVERS.ID   *030101*1253*^*00501*000000905*1*T*:~";

    fn read_all(text: &[u8]) -> Result<Vec<(u64, String, Vec<String>)>, LoadError> {
        let mut input: &[u8] = text;
        let mut r = SegmentReader::new(&mut input);
        let mut out = Vec::new();
        while let Some(s) = r.next_segment()? {
            let els = (1..=s.len()).map(|i| s.element(i).to_string()).collect();
            out.push((s.number, s.id().to_string(), els));
        }
        Ok(out)
    }

    #[test]
    fn delimiters_come_from_isa_positions() {
        let d = Delimiters::from_isa(ISA.as_bytes()).unwrap();
        assert_eq!(d, Delimiters { element: b'*', component: b':', repetition: Some(b'^'), segment: b'~' });
        // 4010: ISA11 is the standards id U, not a separator.
        let isa4010 = ISA.replace("*^*00501", "*U*00401");
        assert_eq!(Delimiters::from_isa(isa4010.as_bytes()).unwrap().repetition, None);
        let other = ISA.replace('*', "|").replace(":~", "}\n");
        let d = Delimiters::from_isa(other.as_bytes()).unwrap();
        assert_eq!((d.element, d.component, d.segment), (b'|', b'}', b'\n'));
    }

    #[test]
    fn short_isa_element_is_named() {
        // ISA04 has 9 characters instead of 10 (imsweb x12_bad_first_line).
        let bad = ISA.replacen("*SECRET    *", "*SECRET   *", 1) + "\n";
        let err = Delimiters::from_isa(bad.as_bytes()).unwrap_err();
        assert!(err.contains("ISA04 is 9 characters") && err.contains("must have 10"), "{err}");
        assert!(Delimiters::from_isa(b"ISA*00").unwrap_err().contains("106"));
        let mut latin = ISA.as_bytes().to_vec();
        latin[105] = 0xA7;
        assert_eq!(
            Delimiters::from_isa(&latin).unwrap_err(),
            "the segment terminator is byte 0xA7, not an ASCII character"
        );
    }

    #[test]
    fn reads_segments_with_any_delimiters_and_whitespace() {
        let text = format!("\u{FEFF}{ISA}\r\n  GS*HC*A*B~\n\tST*837*0001*005010X222A1~SE*2*0001~   \n");
        let segs = read_all(text.as_bytes()).unwrap();
        let ids: Vec<_> = segs.iter().map(|s| s.1.as_str()).collect();
        assert_eq!(ids, ["ISA", "GS", "ST", "SE"]);
        assert_eq!(segs[2].0, 3);
        assert_eq!(segs[2].2, ["837", "0001", "005010X222A1"]);
        assert_eq!(segs[0].2[15], ":");

        let tilde = ISA.replace('*', "~").replace(":~", ">_") + "GS~HC_SE~2~1_";
        let segs = read_all(tilde.as_bytes()).unwrap();
        assert_eq!(segs[1].2, ["HC"]);
        assert_eq!(segs[2].2, ["2", "1"]);
    }

    #[test]
    fn each_interchange_declares_its_delimiters() {
        let second = ISA.replace('*', "|").replace(":~", "}!");
        let text = format!("{ISA}IEA*1*000000905~{second}GS|HC|A}}B!IEA|1|2!");
        let segs = read_all(text.as_bytes()).unwrap();
        assert_eq!(segs.iter().map(|s| s.1.as_str()).collect::<Vec<_>>(), ["ISA", "IEA", "ISA", "GS", "IEA"]);
        assert_eq!(segs[3].2, ["HC", "A}B"]);
    }

    /// Hands out one byte per read, to exercise refills at every position.
    struct Trickle<'a>(&'a [u8]);
    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match (self.0.split_first(), buf.first_mut()) {
                (Some((b, rest)), Some(slot)) => {
                    *slot = *b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    #[test]
    fn segments_are_the_same_whatever_the_read_sizes() {
        let second = ISA.replace('*', "|").replace(":~", "}!");
        let text = format!(
            "\u{FEFF}{ISA}\r\nGS*HC*A~ST*837*1~NM1*IL*1*{}~IEA*1*1~\n{second}GS|HC!IEA|1|2!",
            "N".repeat(70_000)
        );
        let whole = read_all(text.as_bytes()).unwrap();
        let mut trickle = io::BufReader::with_capacity(1, Trickle(text.as_bytes()));
        let mut r = SegmentReader::new(&mut trickle);
        let mut pieces = Vec::new();
        while let Some(s) = r.next_segment().unwrap() {
            pieces.push((
                s.number,
                s.id().to_string(),
                (1..=s.len()).map(|i| s.element(i).to_string()).collect::<Vec<_>>(),
            ));
        }
        assert_eq!(pieces, whole);
        assert_eq!(whole.len(), 8);
        assert_eq!(whole[3].2[2].len(), 70_000);
    }

    #[test]
    fn composites_split_on_the_component_separator() {
        let text = format!("{ISA}SV1*HC:99213:25:59*40*UN*1~");
        let mut input = text.as_bytes();
        let mut r = SegmentReader::new(&mut input);
        r.next_segment().unwrap();
        let s = r.next_segment().unwrap().unwrap();
        assert_eq!(
            (s.component(1, 1), s.component(1, 2), s.component(1, 3), s.component(1, 5)),
            ("HC", "99213", "25", "")
        );
        assert_eq!(s.component(2, 1), "40");
        assert_eq!(s.element(9), "");
        assert_eq!(s.at_element(1, 2), "segment 2 (SV1), element SV101-2");
        assert_eq!(s.at_element(2, 0), "segment 2 (SV1), element SV102");
    }

    #[test]
    fn files_without_isa_are_rejected() {
        let err = read_all(b"GS*HC*A*B~ST*837*1~").unwrap_err().to_string();
        assert!(err.contains("does not start with an ISA"), "{err}");
        let err = read_all(&ISA.as_bytes()[..50]).unwrap_err().to_string();
        assert!(err.contains("ends inside the ISA header"), "{err}");
    }

    #[test]
    fn latin1_text_is_kept() {
        let mut text = format!("{ISA}NM1*IL*1*M").into_bytes();
        text.extend_from_slice(&[0xDC, b'L', b'L', b'E', b'R', b'~']);
        let segs = read_all(&text).unwrap();
        assert_eq!(segs[1].2[2], "MÜLLER");
    }

    #[test]
    fn utf16_is_reencoded() {
        let text = format!("{ISA}GS*HC~");
        for le in [true, false] {
            let mut bytes: Vec<u8> = vec![];
            for u in text.encode_utf16() {
                bytes.extend_from_slice(&if le { u.to_le_bytes() } else { u.to_be_bytes() });
            }
            assert_eq!(utf16_order(&bytes), Some(le));
            let mut raw: &[u8] = &bytes;
            let mut dec = Utf16Reader::new(&mut raw, le);
            let mut s = String::new();
            dec.read_to_string(&mut s).unwrap();
            assert_eq!(s, text);
        }
        assert_eq!(utf16_order(b"ISA*"), None);
    }
}
