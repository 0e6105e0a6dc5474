//! asciicast v2 (https://docs.asciinema.org/manual/asciicast/v2/): a PTY session recorded as
//! a header line and one `[time, code, data]` line per event — `"o"` what the binary wrote,
//! `"i"` a key typed, `"m"` a marker naming a checkpoint of the script — and replayed into
//! the screens at those markers.

use std::time::Instant;

use serde_json::{Value, json};

/// One event: seconds since the start, its code (`o`, `i` or `m`) and its data.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub t: f64,
    pub code: String,
    pub data: String,
}

/// A recording under way, fed by the PTY's reader thread and by the script.
pub struct Recorder {
    start: Instant,
    events: Vec<Event>,
    /// Output bytes that end inside a UTF-8 character: the rest comes with the next read,
    /// and an event's data must be whole characters (JSON strings).
    pending: Vec<u8>,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder {
            start: Instant::now(),
            events: Vec::new(),
            pending: Vec::new(),
        }
    }
}

impl Recorder {
    /// Records `bytes` the binary wrote, now.
    pub fn output(&mut self, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
        let mut text = String::new();
        loop {
            match std::str::from_utf8(&self.pending) {
                Ok(s) => {
                    text.push_str(s);
                    self.pending.clear();
                    break;
                }
                Err(e) => {
                    let good = e.valid_up_to();
                    text.push_str(std::str::from_utf8(&self.pending[..good]).unwrap());
                    match e.error_len() {
                        // A character cut at the end of the read: keep its start.
                        None => {
                            self.pending.drain(..good);
                            break;
                        }
                        Some(bad) => {
                            text.push(char::REPLACEMENT_CHARACTER);
                            self.pending.drain(..good + bad);
                        }
                    }
                }
            }
        }
        if !text.is_empty() {
            self.push("o", text);
        }
    }

    /// Records the keys `bytes` typed, now.
    pub fn input(&mut self, bytes: &[u8]) {
        self.push("i", String::from_utf8_lossy(bytes).into_owned());
    }

    /// Records a marker named `label`, now.
    pub fn marker(&mut self, label: &str) {
        self.push("m", label.to_string());
    }

    fn push(&mut self, code: &str, data: String) {
        // Microseconds, as asciinema writes them.
        let t = (self.start.elapsed().as_secs_f64() * 1e6).round() / 1e6;
        self.events.push(Event {
            t,
            code: code.to_string(),
            data,
        });
    }

    /// The recording so far, of a `width`×`height` terminal.
    pub fn cast(&self, width: u16, height: u16) -> Cast {
        Cast {
            width,
            height,
            events: self.events.clone(),
        }
    }
}

/// A whole recording: the terminal's size and its events.
#[derive(Clone, Debug)]
pub struct Cast {
    pub width: u16,
    pub height: u16,
    pub events: Vec<Event>,
}

/// The screen at one marker of a recording.
pub struct Checkpoint {
    pub label: String,
    pub t: f64,
    pub screen: vt100::Screen,
}

impl Cast {
    /// The asciicast v2 text: the header line, then one line per event.
    pub fn to_text(&self, term: &str) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        // Written by hand: the version first, as players expect (a JSON map would sort it).
        let term = json!(term);
        let (w, h) = (self.width, self.height);
        let mut out = format!(
            r#"{{"version":2,"width":{w},"height":{h},"timestamp":{now},"env":{{"TERM":{term}}}}}"#
        );
        out.push('\n');
        for e in &self.events {
            out.push_str(&json!([e.t, e.code, e.data]).to_string());
            out.push('\n');
        }
        out
    }

    /// Reads an asciicast v2 text.
    pub fn parse(text: &str) -> Result<Cast, String> {
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        let header: Value = serde_json::from_str(lines.next().ok_or("an empty file")?)
            .map_err(|e| format!("the header: {e}"))?;
        if header["version"] != 2 {
            return Err(format!("not asciicast v2: {header}"));
        }
        let size = |k: &str| {
            header[k]
                .as_u64()
                .and_then(|v| u16::try_from(v).ok())
                .ok_or(format!("no {k} in the header"))
        };
        let (width, height) = (size("width")?, size("height")?);
        let mut events = Vec::new();
        for (i, line) in lines.enumerate() {
            let v: Value = serde_json::from_str(line).map_err(|e| format!("event {i}: {e}"))?;
            match (v[0].as_f64(), v[1].as_str(), v[2].as_str()) {
                (Some(t), Some(code), Some(data)) => events.push(Event {
                    t,
                    code: code.to_string(),
                    data: data.to_string(),
                }),
                _ => return Err(format!("event {i} is not [time, code, data]: {line}")),
            }
        }
        Ok(Cast {
            width,
            height,
            events,
        })
    }

    /// Replays the output, calling `at` with each event's time, whether it is a marker's
    /// label, and the screen after it.
    pub fn replay(&self, mut at: impl FnMut(f64, Option<&str>, &vt100::Screen)) {
        let mut parser = vt100::Parser::new(self.height, self.width, 0);
        for e in &self.events {
            match e.code.as_str() {
                "o" => {
                    parser.process(e.data.as_bytes());
                    at(e.t, None, parser.screen());
                }
                "m" => at(e.t, Some(&e.data), parser.screen()),
                _ => {}
            }
        }
    }

    /// The screen at each marker, in order.
    pub fn checkpoints(&self) -> Vec<Checkpoint> {
        let mut out = Vec::new();
        self.replay(|t, label, screen| {
            if let Some(label) = label {
                out.push(Checkpoint {
                    label: label.to_string(),
                    t,
                    screen: screen.clone(),
                });
            }
        });
        out
    }

    /// How long the recording lasts, in seconds.
    pub fn duration(&self) -> f64 {
        self.events.last().map_or(0.0, |e| e.t)
    }
}

#[test]
fn a_character_cut_between_reads_is_kept_whole_and_the_text_round_trips() {
    let mut r = Recorder::default();
    let check = "✔".as_bytes();
    r.output(&[b'a', check[0]]);
    r.output(&check[1..]);
    r.input(b"j");
    r.marker("node0");
    let cast = Cast::parse(&r.cast(100, 30).to_text("xterm-256color")).unwrap();
    let data: Vec<(&str, &str)> = cast
        .events
        .iter()
        .map(|e| (e.code.as_str(), e.data.as_str()))
        .collect();
    assert_eq!(data, [("o", "a"), ("o", "✔"), ("i", "j"), ("m", "node0")]);
    assert_eq!((cast.width, cast.height), (100, 30));
    let marks = cast.checkpoints();
    assert_eq!(marks.len(), 1);
    assert_eq!(marks[0].screen.contents(), "a✔");
}
