//! A JSON reader that walks to the few fields a caller keeps and steps over everything else
//! without parsing it. The drain's pre-flight reads every pod of the cluster (~930 MB of
//! JSON at 150,000 pods) for five facts each; serde_json spent about 40 % of that read's CPU
//! skipping the rest token by token. [`Skim`] skips a whole object or array sixteen bytes at
//! a time (quotes, backslashes and brackets found with one SIMD compare each): two to three
//! times faster than serde_json's skip on the simulator's pods (`docs/benchmarks.md`).
//!
//! It reads only the shapes its callers expect: anything else (a `null` where an object was
//! expected, an escape in a key or a kept string, a number where a string was expected, a
//! repeated field) is [`Unhandled`], and the caller decodes the same bytes with serde_json,
//! which gives the same answer or the precise error. Skipped values are not validated; an
//! unbalanced bracket in one makes the enclosing read [`Unhandled`].

use wide::u8x16;

/// The input is not in a shape [`Skim`] reads: decode it with serde_json instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unhandled;

/// What a [`Skim`] read gives.
pub type Skimmed<T> = Result<T, Unhandled>;

/// A cursor over one JSON text.
#[derive(Debug)]
pub struct Skim<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Skim<'a> {
    /// A cursor at the start of `b`.
    pub fn new(b: &'a [u8]) -> Self {
        Skim { b, i: 0 }
    }

    /// The index of the next byte to read.
    pub fn pos(&self) -> usize {
        self.i
    }

    /// The next byte after whitespace, not consumed.
    fn peek(&mut self) -> Option<u8> {
        while let Some(&c) = self.b.get(self.i) {
            if !matches!(c, b' ' | b'\n' | b'\r' | b'\t') {
                return Some(c);
            }
            self.i += 1;
        }
        None
    }

    fn eat(&mut self, c: u8) -> Skimmed<()> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(Unhandled)
        }
    }

    /// Consumes a `null` if one comes next.
    pub fn null(&mut self) -> bool {
        if self.peek() == Some(b'n') && self.b[self.i..].starts_with(b"null") {
            self.i += 4;
            return true;
        }
        false
    }

    /// Only whitespace is left.
    pub fn end(&mut self) -> Skimmed<()> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(Unhandled),
        }
    }

    /// Reads an object: `field` gets each key and must read or [`skip`](Self::skip) its value.
    pub fn object(
        &mut self,
        mut field: impl FnMut(&'a [u8], &mut Self) -> Skimmed<()>,
    ) -> Skimmed<()> {
        self.eat(b'{')?;
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(());
        }
        loop {
            let key = self.raw_str()?;
            self.eat(b':')?;
            field(key, self)?;
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return Err(Unhandled),
            }
        }
    }

    /// Reads an array: `item` must read or [`skip`](Self::skip) each element.
    pub fn array(&mut self, mut item: impl FnMut(&mut Self) -> Skimmed<()>) -> Skimmed<()> {
        self.eat(b'[')?;
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(());
        }
        loop {
            item(self)?;
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return Err(Unhandled),
            }
        }
    }

    /// A string without escapes, as UTF-8.
    pub fn str(&mut self) -> Skimmed<&'a str> {
        std::str::from_utf8(self.raw_str()?).map_err(|_| Unhandled)
    }

    /// The bytes of a string without escapes (a key, or a value compared as bytes).
    fn raw_str(&mut self) -> Skimmed<&'a [u8]> {
        self.eat(b'"')?;
        let start = self.i;
        let rest = &self.b[start..];
        match memchr::memchr2(b'"', b'\\', rest) {
            Some(n) if rest[n] == b'"' => {
                self.i = start + n + 1;
                Ok(&rest[..n])
            }
            _ => Err(Unhandled),
        }
    }

    /// `true` or `false`.
    pub fn bool(&mut self) -> Skimmed<bool> {
        let _ = self.peek();
        let rest = &self.b[self.i..];
        if rest.starts_with(b"true") {
            self.i += 4;
            Ok(true)
        } else if rest.starts_with(b"false") {
            self.i += 5;
            Ok(false)
        } else {
            Err(Unhandled)
        }
    }

    /// Steps over the next value, whatever it is.
    pub fn skip(&mut self) -> Skimmed<()> {
        let start = self.i;
        match self.peek().ok_or(Unhandled)? {
            b'"' => {
                self.i = skip_string(self.b, self.i + 1).ok_or(Unhandled)?;
            }
            b'{' | b'[' => {
                self.i = skip_container(self.b, self.i + 1).ok_or(Unhandled)?;
            }
            b',' | b':' | b'}' | b']' => return Err(Unhandled),
            _ => {
                // A number, `true`, `false` or `null`: up to the next delimiter.
                let rest = &self.b[self.i..];
                let n = rest
                    .iter()
                    .position(|c| matches!(c, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t'))
                    .unwrap_or(rest.len());
                self.i += n;
            }
        }
        debug_assert!(self.i > start);
        Ok(())
    }
}

/// The index after the string whose content starts at `i` (after its opening quote).
fn skip_string(b: &[u8], mut i: usize) -> Option<usize> {
    loop {
        let j = i + memchr::memchr2(b'"', b'\\', b.get(i..)?)?;
        if b[j] == b'"' {
            return Some(j + 1);
        }
        i = j + 2;
    }
}

/// Where a string, bracket or escape state stands between blocks.
#[derive(Clone, Copy)]
struct Scan {
    depth: u32,
    in_str: bool,
}

impl Scan {
    /// One byte: how far to advance (2 over an escape) and whether the container closed.
    fn byte(&mut self, c: u8) -> (usize, bool) {
        if self.in_str {
            match c {
                b'\\' => return (2, false),
                b'"' => self.in_str = false,
                _ => {}
            }
            return (1, false);
        }
        match c {
            b'"' => self.in_str = true,
            b'{' | b'[' => self.depth += 1,
            b'}' | b']' => {
                self.depth -= 1;
                return (1, self.depth == 0);
            }
            _ => {}
        }
        (1, false)
    }
}

/// Each bit `i` set: an odd number of quotes at or before position `i`, i.e. inside a string
/// that was opened in this block (an opening quote counts as inside, a closing one not).
fn prefix_xor(mut m: u32) -> u32 {
    m ^= m << 1;
    m ^= m << 2;
    m ^= m << 4;
    m ^= m << 8;
    m & 0xffff
}

/// The index after the object or array whose content starts at `i` (after its opening
/// bracket). Brackets inside strings do not count; `None` if it never closes.
fn skip_container(b: &[u8], i: usize) -> Option<usize> {
    const BLOCK: usize = 16;
    let quote = u8x16::splat(b'"');
    let backslash = u8x16::splat(b'\\');
    // `[` and `]` are `{` and `}` without bit 5: setting it finds both of each pair.
    let bit5 = u8x16::splat(0x20);
    let open = u8x16::splat(b'{');
    let close = u8x16::splat(b'}');
    let mut s = Scan {
        depth: 1,
        in_str: false,
    };
    let mut p = i;
    while let Some(block) = b.get(p..p + BLOCK) {
        let x = u8x16::new(block.try_into().ok()?);
        if x.simd_eq(backslash).to_bitmask() != 0 {
            // Escapes are rare in Kubernetes objects: this block byte by byte.
            let end = p + BLOCK;
            while p < end {
                let (step, closed) = s.byte(*b.get(p)?);
                if closed {
                    return Some(p + 1);
                }
                p += step;
            }
            continue;
        }
        let quotes = x.simd_eq(quote).to_bitmask();
        let inside = prefix_xor(quotes) ^ if s.in_str { 0xffff } else { 0 };
        let folded = x | bit5;
        let opens = folded.simd_eq(open).to_bitmask() & !inside;
        let closes = folded.simd_eq(close).to_bitmask() & !inside;
        s.in_str ^= quotes.count_ones() % 2 == 1;
        if closes.count_ones() >= s.depth {
            // The container may close in this block: find where, bracket by bracket.
            let mut brackets = opens | closes;
            while brackets != 0 {
                let at = brackets.trailing_zeros();
                if closes >> at & 1 == 1 {
                    s.depth -= 1;
                    if s.depth == 0 {
                        return Some(p + at as usize + 1);
                    }
                } else {
                    s.depth += 1;
                }
                brackets &= brackets - 1;
            }
        } else {
            s.depth = s.depth + opens.count_ones() - closes.count_ones();
        }
        p += BLOCK;
    }
    while p < b.len() {
        let (step, closed) = s.byte(b[p]);
        if closed {
            return Some(p + 1);
        }
        p += step;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where serde_json says the first value of `text` ends.
    fn serde_end(text: &str) -> usize {
        let mut it = serde_json::Deserializer::from_str(text).into_iter::<serde_json::Value>();
        it.next().unwrap().unwrap();
        it.byte_offset()
    }

    #[test]
    fn a_skip_ends_where_serde_json_ends_at_every_alignment() {
        let values = [
            r#"{"a":"}]{[","b":[1,2,{"c":"\"}"}],"d":{}}"#,
            r#"["x\\",{"y":"\\\"]"},[[[]]],"z"]"#,
            r#"{"long":"0123456789abcdef0123456789abcdef{{{{","k":[{"n":null,"t":true}]}"#,
            r#"{"é":"ü}","\u00e9":"\ud83d\ude00]","end":-1.5e3}"#,
            r#""a string with \" and ] inside""#,
            "-12.5e-3",
            "true",
            "null",
        ];
        for v in values {
            for pad in 0..40 {
                let text = format!("{}{v}, 7", " ".repeat(pad));
                let mut s = Skim::new(text.as_bytes());
                s.skip().unwrap();
                assert_eq!(s.i, serde_end(&text), "{text}");
            }
        }
    }

    #[test]
    fn the_real_objects_skip_whole() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/real-objects");
        for f in std::fs::read_dir(dir).unwrap() {
            let path = f.unwrap().path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let pretty = std::fs::read_to_string(&path).unwrap();
            let v: serde_json::Value = serde_json::from_str(&pretty).unwrap();
            for text in [pretty, v.to_string()] {
                let mut s = Skim::new(text.as_bytes());
                s.skip().unwrap();
                assert_eq!(s.end(), Ok(()), "{}", path.display());
            }
        }
    }

    #[test]
    fn an_unclosed_container_is_unhandled() {
        for text in [r#"{"a":[1,2}"#, r#"{"a":"}"#, r#"[{"b":1}"#, "{", r#""abc"#] {
            assert_eq!(Skim::new(text.as_bytes()).skip(), Err(Unhandled), "{text}");
        }
    }

    #[test]
    fn objects_arrays_and_scalars_read_in_place() {
        let text =
            br#" { "name" : "n1", "list": [ true , false,null ], "skip": {"x": [1]}, "o": {} } "#;
        let mut s = Skim::new(text);
        let (mut name, mut flags, mut nulls) = ("", vec![], 0);
        s.object(|k, s| match k {
            b"name" => {
                name = s.str()?;
                Ok(())
            }
            b"list" => s.array(|s| {
                if s.null() {
                    nulls += 1;
                    return Ok(());
                }
                flags.push(s.bool()?);
                Ok(())
            }),
            _ => s.skip(),
        })
        .unwrap();
        s.end().unwrap();
        assert_eq!((name, flags, nulls), ("n1", vec![true, false], 1));
    }

    #[test]
    fn escapes_in_kept_strings_and_keys_are_unhandled() {
        let read = |text: &[u8]| Skim::new(text).object(|_, s| s.str().map(|_| ()));
        assert_eq!(read(br#"{"a":"plain"}"#), Ok(()));
        assert_eq!(read(br#"{"a":"esc\"aped"}"#), Err(Unhandled));
        assert_eq!(read(br#"{"k\u0065y":"v"}"#), Err(Unhandled));
        assert_eq!(read(br#"{"a":1}"#), Err(Unhandled));
        assert_eq!(read(br#"{"a":"v" "b":"w"}"#), Err(Unhandled));
    }
}
