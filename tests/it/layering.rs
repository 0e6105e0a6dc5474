//! The import graph the design promises (docs: design.md, "Code that people want to live
//! in"): `app` never imports `ui` (the runner is handed `ui::draw`), and the engines
//! (`drain`, `campaign`, `cluster`, `sim`) import neither `app`, `ui`, `cli` nor `commands`
//! (the command line is mapped onto them in `commands` and `cli`). Test modules at the end of
//! a file (`#[cfg(test)]`) may use the app's fixtures.

use std::path::{Path, PathBuf};

fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(sources(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out
}

/// The file's code before its test module, and whether it is a test-only file.
fn shipped_code(p: &Path) -> String {
    let text = std::fs::read_to_string(p).unwrap();
    let name = p.file_name().unwrap().to_string_lossy();
    if name.ends_with("_tests.rs") || name == "tests.rs" {
        return String::new();
    }
    match text.find("#[cfg(test)]") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

fn offenders(layer: &str, forbidden: &[&str]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src")
        .join(layer);
    let mut out = vec![];
    for p in sources(&root) {
        for (n, line) in shipped_code(&p).lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            // `crate::ui::x`, `crate::ui;` and a group such as `crate::{cluster, ui}`.
            let group = code
                .split_once("crate::{")
                .map(|(_, g)| g.split(['}', ',', ' ']).map(str::trim).collect::<Vec<_>>())
                .unwrap_or_default();
            for f in forbidden {
                if code.contains(&format!("crate::{f}::"))
                    || code.contains(&format!("crate::{f};"))
                    || group
                        .iter()
                        .any(|g| g == f || g.starts_with(&format!("{f}::")))
                {
                    out.push(format!("{}:{}: {}", p.display(), n + 1, line.trim()));
                }
            }
        }
    }
    out
}

#[test]
fn app_never_imports_ui() {
    let found = offenders("app", &["ui"]);
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn engines_never_import_app_ui_cli_or_commands() {
    for engine in ["drain", "campaign", "cluster", "sim", "config"] {
        let found = offenders(engine, &["app", "ui", "cli", "commands"]);
        assert!(found.is_empty(), "{engine}: {found:#?}");
    }
}

#[test]
fn the_check_sees_an_import() {
    // The scan itself: it must find what it looks for (here, the runner's ui import in main).
    let main =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/main.rs")).unwrap();
    assert!(main.contains("kubedrain::ui::draw"));
    assert!(
        !offenders("commands", &["drain"]).is_empty(),
        "commands use the drain engine"
    );
}

const CROSSTERM: &str = concat!("cross", "term");

/// Whether a line of code names the crossterm crate other than as `ratatui::crossterm`.
fn names_crossterm_directly(line: &str) -> bool {
    let code = line.split("//").next().unwrap_or_default();
    code.match_indices(CROSSTERM).any(|(i, _)| {
        let after = &code[i + CROSSTERM.len()..];
        (after.starts_with("::") || after.starts_with(';')) && !code[..i].ends_with("ratatui::")
    })
}

#[test]
fn crossterm_only_through_ratatui() {
    // `ratatui::crossterm` is the crossterm ratatui's backend is built with; a path naming the
    // crate directly would compile against another version if a direct dependency came back
    // and drifted (there is none: keys are read with crossterm's default features).
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut found = vec![];
    for dir in ["src", "tests", "benches"] {
        for p in sources(&root.join(dir)) {
            let text = std::fs::read_to_string(&p).unwrap();
            for (n, line) in text.lines().enumerate() {
                if names_crossterm_directly(line) {
                    found.push(format!("{}:{}: {}", p.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "use ratatui::{CROSSTERM} instead: {found:#?}"
    );
    // The check itself finds a direct path and lets the re-export through.
    assert!(names_crossterm_directly(&format!(
        "use {CROSSTERM}::event::KeyCode;"
    )));
    assert!(names_crossterm_directly(&format!(
        "    {CROSSTERM}::cursor::Show);"
    )));
    assert!(!names_crossterm_directly(&format!(
        "use ratatui::{CROSSTERM}::event::KeyCode;"
    )));
    assert!(!names_crossterm_directly(&format!(
        "// {CROSSTERM}::x in a comment"
    )));
}
