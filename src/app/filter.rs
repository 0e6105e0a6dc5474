//! The `/` row filter: a case-insensitive regex when the text parses as one, else a
//! substring. Text without regex syntax is a literal, which lets a keystroke at 150,000 pods
//! skip the regex engine and narrow the previous matches instead of scanning every row.

use regex::Regex;

/// The characters that make a text more than a literal in the regex syntax (outside a
/// class; `-`, `&`, `~` and `#` are literal there, and `x` mode is never on).
const REGEX_SYNTAX: &str = r"\.+*?()|[]{}^$";

/// A row filter: regex when the text parses as one (case-insensitive), else a substring.
#[derive(Debug, Clone)]
pub struct Filter {
    pub text: String,
    re: Option<Regex>,
    lower: String,
    /// ASCII text with no regex syntax: the regex matches exactly where the text occurs,
    /// ignoring ASCII case, in an ASCII cell.
    literal: bool,
}

impl Filter {
    /// Compiles `text`.
    pub fn new(text: &str) -> Filter {
        let re = Regex::new(&format!("(?i){text}")).ok();
        let literal =
            re.is_some() && text.is_ascii() && !text.chars().any(|c| REGEX_SYNTAX.contains(c));
        Filter {
            text: text.to_string(),
            re,
            lower: text.to_lowercase(),
            literal,
        }
    }

    /// Whether the text parsed as a regex (else it matches as a plain substring).
    pub fn is_regex(&self) -> bool {
        self.re.is_some()
    }

    /// Whether any of `cells` matches.
    pub fn matches<S: AsRef<str>>(&self, cells: &[S]) -> bool {
        cells.iter().any(|c| self.matches_cell(c.as_ref()))
    }

    /// Whether one cell matches.
    pub fn matches_cell(&self, cell: &str) -> bool {
        // Unicode case folding only differs from ASCII's where the cell is not ASCII (the
        // Kelvin sign matches `k`): there the regex answers.
        if self.literal && cell.is_ascii() {
            return ascii_icontains(cell.as_bytes(), self.lower.as_bytes());
        }
        match &self.re {
            Some(re) => re.is_match(cell),
            None => cell.to_lowercase().contains(&self.lower),
        }
    }

    /// Whether the filter can match a cell made only of `alphabet`'s characters (lower
    /// case); always true for a regex, which may match any cell.
    pub fn can_occur_in(&self, alphabet: &str) -> bool {
        !self.literal || self.lower.chars().all(|c| alphabet.contains(c))
    }

    /// Whether every cell this filter matches is matched by `before` too: both are
    /// literals and this one's text contains the other's (typing on at the end, or before).
    pub fn narrows(&self, before: &Filter) -> bool {
        self.literal && before.literal && self.lower.contains(&before.lower)
    }
}

/// Whether `needle` (lower-case ASCII) occurs in `hay`, ignoring ASCII case.
fn ascii_icontains(hay: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    if hay.len() < needle.len() {
        return false;
    }
    (0..=hay.len() - needle.len()).any(|i| {
        hay[i].to_ascii_lowercase() == first
            && hay[i + 1..i + needle.len()].eq_ignore_ascii_case(rest)
    })
}

#[cfg(test)]
mod tests {
    use super::Filter;

    /// The regex as the filter compiled it, without the literal shortcut: the reference.
    fn by_regex(text: &str, cell: &str) -> bool {
        regex::Regex::new(&format!("(?i){text}")).is_ok_and(|re| re.is_match(cell))
    }

    #[test]
    fn a_literal_matches_exactly_where_its_regex_does() {
        let cells = [
            "svc-07500-7d4b9c8f6d-075001",
            "Running",
            "CrashLoopBackOff",
            "10.0.3.7",
            "<none>",
            "3 (5m ago)",
            "1/2",
            "77d",
            "",
            "node-00042",
            "TEAM-00/Svc",
            "\u{212a}ube",
            "ſvc",
            "Init:0/1",
            "a#b&c~d",
            "x y",
        ];
        let texts = [
            "s", "S", "svc-0", "SVC-075", "run", "0/1", "ago", "k", "ube", "#b&c~", "x y", "/",
            "7d4", "init:", "e-",
        ];
        for t in texts {
            let f = Filter::new(t);
            assert!(f.literal, "{t:?} has no regex syntax");
            for c in cells {
                assert_eq!(f.matches_cell(c), by_regex(t, c), "{t:?} in {c:?}");
            }
        }
    }

    #[test]
    fn regex_syntax_or_unicode_text_is_not_a_literal() {
        for t in [
            "^svc", "svc.*", "a|b", "(x)", "[0-9]", "x{2}", "a+", "a?", r"\d", "é",
        ] {
            assert!(!Filter::new(t).literal, "{t:?}");
        }
        // An invalid regex is a plain substring, as before.
        let f = Filter::new("(oops");
        assert!(!f.is_regex() && f.matches_cell("say (OOPS") && !f.matches_cell("oops"));
    }

    #[test]
    fn narrowing_needs_two_literals_one_inside_the_other() {
        let f = |t| Filter::new(t);
        assert!(f("svc-0").narrows(&f("svc-")));
        assert!(
            f("xsvc").narrows(&f("svc")),
            "typing before the text narrows too"
        );
        assert!(!f("svc").narrows(&f("svc-")), "deleting widens");
        assert!(
            !f("svc.").narrows(&f("svc")),
            "a regex may match what the literal did not"
        );
        assert!(!f("svc").narrows(&f("sv.")));
    }

    #[test]
    fn a_literal_can_occur_only_in_cells_of_its_characters() {
        assert!(Filter::new("5M").can_occur_in("0123456789smhdy"));
        assert!(!Filter::new("svc-").can_occur_in("0123456789smhdy"));
        assert!(
            Filter::new(r"\d").can_occur_in("0123456789"),
            "a regex may match anything"
        );
    }
}
