//! Skins: the colours of the TUI. Three are built in (`default`, `light`, `high-contrast`);
//! a file `skins/NAME.yaml` beside the config holds another, in a k9s-like layout:
//!
//! ```yaml
//! kubedrain:
//!   body:   { fgColor: default, dimColor: darkgray }
//!   frame:  { borderColor: darkgray, focusColor: cyan }
//!   status: { okColor: green, warnColor: yellow, badColor: red, leavingColor: magenta }
//!   table:  { cursorFgColor: white, cursorBgColor: blue }
//!   badge:  { fgColor: black, bgColor: cyan, demoFgColor: white, demoBgColor: magenta }
//! ```
//!
//! Colours are names (`red`, `lightblue`, `darkgray`, `default` for the terminal's own),
//! `#rrggbb`, or a 256-colour index; a key left out keeps the default skin's colour.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use ratatui::style::Color;
use serde::Deserialize;

use super::ConfigError;

/// The colours every style of `ui::theme` is made from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Skin {
    pub text: Color,
    pub dim: Color,
    pub border: Color,
    pub focus: Color,
    pub ok: Color,
    pub warn: Color,
    pub bad: Color,
    pub leaving: Color,
    pub cursor_fg: Color,
    pub cursor_bg: Color,
    pub badge_fg: Color,
    pub badge_bg: Color,
    pub demo_fg: Color,
    pub demo_bg: Color,
}

/// The built-in skins' names.
pub const BUILT_IN: [&str; 3] = ["default", "light", "high-contrast"];

impl Default for Skin {
    /// Named ANSI colours, so the terminal's palette decides the shades.
    fn default() -> Skin {
        Skin {
            text: Color::Reset,
            dim: Color::DarkGray,
            border: Color::DarkGray,
            focus: Color::Cyan,
            ok: Color::Green,
            warn: Color::Yellow,
            bad: Color::Red,
            leaving: Color::Magenta,
            cursor_fg: Color::White,
            cursor_bg: Color::Blue,
            badge_fg: Color::Black,
            badge_bg: Color::Cyan,
            demo_fg: Color::White,
            demo_bg: Color::Magenta,
        }
    }
}

impl Skin {
    /// For a light background: darker shades where yellow and cyan would fade into white.
    pub fn light() -> Skin {
        Skin {
            dim: Color::Indexed(244),
            border: Color::Indexed(246),
            focus: Color::Indexed(25),
            ok: Color::Indexed(28),
            warn: Color::Indexed(130),
            bad: Color::Indexed(160),
            leaving: Color::Indexed(127),
            cursor_fg: Color::Black,
            cursor_bg: Color::Indexed(153),
            badge_fg: Color::White,
            badge_bg: Color::Indexed(25),
            ..Skin::default()
        }
    }

    /// Bright colours only, light grey for secondary text: for projectors and low vision.
    /// (Text keeps the terminal's colour: a set one would override the selected row's.)
    pub fn high_contrast() -> Skin {
        Skin {
            text: Color::Reset,
            dim: Color::Gray,
            border: Color::White,
            focus: Color::LightYellow,
            ok: Color::LightGreen,
            warn: Color::LightYellow,
            bad: Color::LightRed,
            leaving: Color::LightMagenta,
            cursor_fg: Color::White,
            cursor_bg: Color::Blue,
            badge_fg: Color::Black,
            badge_bg: Color::LightYellow,
            demo_fg: Color::Black,
            demo_bg: Color::LightMagenta,
        }
    }

    /// A built-in skin by name.
    pub fn built_in(name: &str) -> Option<Skin> {
        match name {
            "default" => Some(Skin::default()),
            "light" => Some(Skin::light()),
            "high-contrast" => Some(Skin::high_contrast()),
            _ => None,
        }
    }
}

/// The skin `name`: a built-in one, or `skins/NAME.yaml` in `dir`.
pub fn resolve(name: &str, dir: &Path) -> Result<Skin, ConfigError> {
    if let Some(s) = Skin::built_in(name) {
        return Ok(s);
    }
    let path = dir.join("skins").join(format!("{name}.yaml"));
    let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
        path: path.clone(),
        source: std::io::Error::new(
            source.kind(),
            format!(
                "{source} (ui.skin {name:?} is not one of {} nor a file there)",
                BUILT_IN.join(", ")
            ),
        ),
    })?;
    parse(&text, &path)
}

/// Reads a skin file.
pub fn parse(text: &str, path: &Path) -> Result<Skin, ConfigError> {
    let file: File = serde_saphyr::from_str(text).map_err(|e| super::invalid_yaml(&e, path))?;
    let f = file.kubedrain;
    let mut s = Skin::default();
    let set = |slot: &mut Color, key: &str, value: Option<String>| -> Result<(), ConfigError> {
        let Some(v) = value else {
            return Ok(());
        };
        *slot = color(&v).ok_or_else(|| ConfigError::Invalid {
            path: PathBuf::from(path),
            line: super::line_of(text, key),
            message: format!(
                "{key}: {v:?} is not a colour (a name such as red or lightblue, #rrggbb, or 0-255)"
            ),
        })?;
        Ok(())
    };
    set(&mut s.text, "fgColor", f.body.fg_color)?;
    set(&mut s.dim, "dimColor", f.body.dim_color)?;
    set(&mut s.border, "borderColor", f.frame.border_color)?;
    set(&mut s.focus, "focusColor", f.frame.focus_color)?;
    set(&mut s.ok, "okColor", f.status.ok_color)?;
    set(&mut s.warn, "warnColor", f.status.warn_color)?;
    set(&mut s.bad, "badColor", f.status.bad_color)?;
    set(&mut s.leaving, "leavingColor", f.status.leaving_color)?;
    set(&mut s.cursor_fg, "cursorFgColor", f.table.cursor_fg_color)?;
    set(&mut s.cursor_bg, "cursorBgColor", f.table.cursor_bg_color)?;
    set(&mut s.badge_fg, "fgColor", f.badge.fg_color)?;
    set(&mut s.badge_bg, "bgColor", f.badge.bg_color)?;
    set(&mut s.demo_fg, "demoFgColor", f.badge.demo_fg_color)?;
    set(&mut s.demo_bg, "demoBgColor", f.badge.demo_bg_color)?;
    Ok(s)
}

/// A colour as skins write it; `default` is the terminal's own.
fn color(v: &str) -> Option<Color> {
    match v.trim().to_ascii_lowercase().as_str() {
        "default" | "reset" => Some(Color::Reset),
        v => Color::from_str(v).ok(),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    kubedrain: Parts,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Parts {
    body: Body,
    frame: Frame,
    status: Status,
    table: Table,
    badge: Badge,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
struct Body {
    fg_color: Option<String>,
    dim_color: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
struct Frame {
    border_color: Option<String>,
    focus_color: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
struct Status {
    ok_color: Option<String>,
    warn_color: Option<String>,
    bad_color: Option<String>,
    leaving_color: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
struct Table {
    cursor_fg_color: Option<String>,
    cursor_bg_color: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
struct Badge {
    fg_color: Option<String>,
    bg_color: Option<String>,
    demo_fg_color: Option<String>,
    demo_bg_color: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_skin_file_overrides_what_it_names() {
        let s = parse(
            "kubedrain:\n  status:\n    warnColor: '#d75f00'\n  table:\n    cursorBgColor: 153\n",
            Path::new("/s.yaml"),
        )
        .unwrap();
        assert_eq!(s.warn, Color::Rgb(0xd7, 0x5f, 0x00));
        assert_eq!(s.cursor_bg, Color::Indexed(153));
        assert_eq!(s.ok, Skin::default().ok, "the rest as the default skin");
    }

    #[test]
    fn a_bad_colour_or_key_names_its_line() {
        let e = parse(
            "kubedrain:\n  status:\n    okColor: greenish\n",
            Path::new("/s.yaml"),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "/s.yaml:3: okColor: \"greenish\" is not a colour (a name such as red or lightblue, #rrggbb, or 0-255)"
        );
        let e = parse(
            "kubedrain:\n  frame:\n    edge: red\n",
            Path::new("/s.yaml"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("/s.yaml:3: ") && e.contains("edge"), "{e}");
    }

    #[test]
    fn built_in_skins_by_name_and_an_unknown_one_says_where_it_looked() {
        assert_eq!(resolve("light", Path::new("/x")).unwrap(), Skin::light());
        let e = resolve("solarized", Path::new("/x"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("/x/skins/solarized.yaml"), "{e}");
        assert!(e.contains("default, light, high-contrast"), "{e}");
    }
}
