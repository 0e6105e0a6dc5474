//! Ages and durations the way kubectl prints them (`apimachinery`'s `HumanDuration`).

use jiff::Timestamp;

/// kubectl's short human duration: `42s`, `5m10s`, `3h`, `2d4h`, `77d`, `3y`.
pub fn human(secs: i64) -> String {
    let s = secs.max(0);
    let (m, h, d) = (s / 60, s / 3600, s / 86400);
    let y = d / 365;
    if s < 120 {
        format!("{s}s")
    } else if m < 10 {
        match s % 60 {
            0 => format!("{m}m"),
            r => format!("{m}m{r}s"),
        }
    } else if h < 3 {
        format!("{m}m")
    } else if h < 8 {
        match m % 60 {
            0 => format!("{h}h"),
            r => format!("{h}h{r}m"),
        }
    } else if h < 48 {
        format!("{h}h")
    } else if h < 24 * 8 {
        match h % 24 {
            0 => format!("{d}d"),
            r => format!("{d}d{r}h"),
        }
    } else if d < 365 * 2 {
        format!("{d}d")
    } else if d < 365 * 8 {
        match d % 365 {
            0 => format!("{y}y"),
            r => format!("{y}y{r}d"),
        }
    } else {
        format!("{y}y")
    }
}

/// Age of `t` at `now`, or `<unknown>` like kubectl.
pub fn since(t: Option<Timestamp>, now: Timestamp) -> String {
    match t {
        Some(t) => human(now.as_second() - t.as_second()),
        None => "<unknown>".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::human;

    #[test]
    fn matches_kubectl() {
        assert_eq!(human(5), "5s");
        assert_eq!(human(119), "119s");
        assert_eq!(human(130), "2m10s");
        assert_eq!(human(600), "10m");
        assert_eq!(human(4 * 3600 + 120), "4h2m");
        assert_eq!(human(30 * 3600), "30h");
        assert_eq!(human(3 * 86400 + 3600), "3d1h");
        assert_eq!(human(77 * 86400), "77d");
        assert_eq!(human(3 * 365 * 86400), "3y");
    }
}
