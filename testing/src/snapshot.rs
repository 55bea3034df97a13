//! Snapshots: generated text compared with a file kept in the repository.
//!
//! On a mismatch the generated text is written to a temporary file and the message gives the
//! `diff -u` command that shows the change. `VOLLEY_UPDATE_SNAPSHOTS=1` rewrites the files
//! instead of comparing them.
//!
//! ```no_run
//! use std::path::Path;
//! use volley_testing::snapshot;
//!
//! let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
//! snapshot::assert_all(
//!     [
//!         snapshot::check(&dir.join("module.ts.snap"), "export {};\n"),
//!         snapshot::check_json(&dir.join("doc.json"), &serde_json::json!({ "a": 1 })),
//!     ],
//!     "cargo test -p my-crate --test documents",
//! );
//! ```

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::workspace_root;

/// Whether snapshots are rewritten rather than compared (`VOLLEY_UPDATE_SNAPSHOTS=1`).
pub fn updating() -> bool {
    std::env::var("VOLLEY_UPDATE_SNAPSHOTS").as_deref() == Ok("1")
}

/// Compares `actual` with the file at `path`, or rewrites the file when [`updating`].
///
/// `Err` says what differs (the first differing line, and the `diff -u` command) or that the
/// file is missing.
pub fn check(path: &Path, actual: &str) -> Result<(), String> {
    compare(path, actual, |saved| saved == actual)
}

/// [`check`] for a JSON document: compared as values, so the file's formatting does not
/// matter; written pretty-printed with a final newline.
pub fn check_json(path: &Path, actual: &Value) -> Result<(), String> {
    let text = serde_json::to_string_pretty(actual).expect("json") + "\n";
    compare(path, &text, |saved| {
        serde_json::from_str::<Value>(saved).is_ok_and(|saved| saved == *actual)
    })
}

/// Panics listing every `Err` of `results`, and how to rewrite the snapshots when the change
/// is intended: `VOLLEY_UPDATE_SNAPSHOTS=1 {command}`.
#[track_caller]
pub fn assert_all(results: impl IntoIterator<Item = Result<(), String>>, command: &str) {
    let failures: Vec<String> = results.into_iter().filter_map(Result::err).collect();
    assert!(
        failures.is_empty(),
        "{}\nIf the change is intended, rewrite the snapshots with \
         `VOLLEY_UPDATE_SNAPSHOTS=1 {command}`.",
        failures.join("\n")
    );
}

fn compare(path: &Path, actual: &str, same: impl Fn(&str) -> bool) -> Result<(), String> {
    let saved = std::fs::read_to_string(path);
    if updating() {
        if saved.as_deref().ok() != Some(actual) {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
            }
            std::fs::write(path, actual).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
        return Ok(());
    }
    let Ok(saved) = saved else {
        return Err(format!("{} is missing", path.display()));
    };
    if same(&saved) {
        return Ok(());
    }
    let generated = generated_path(path);
    if let Some(dir) = generated.parent() {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    }
    std::fs::write(&generated, actual).unwrap_or_else(|e| panic!("{}: {e}", generated.display()));
    let line = saved
        .lines()
        .zip(actual.lines())
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| saved.lines().count().min(actual.lines().count()));
    Err(format!(
        "{} differs from the generated text, first at line {}:\n  snapshot:  {:?}\n  \
         generated: {:?}\n  see `diff -u {} {}`",
        path.display(),
        line + 1,
        saved.lines().nth(line).unwrap_or("<end>"),
        actual.lines().nth(line).unwrap_or("<end>"),
        path.display(),
        generated.display(),
    ))
}

/// Where the generated text of a mismatched snapshot goes: a temporary directory, under a
/// name made of the snapshot's path in the workspace.
fn generated_path(snapshot: &Path) -> PathBuf {
    let relative = snapshot.strip_prefix(workspace_root()).unwrap_or(snapshot);
    let name: String = relative
        .to_string_lossy()
        .trim_start_matches('/')
        .replace(['/', '\\'], "-");
    std::env::temp_dir().join("volley-snapshots").join(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "volley-testing-snapshot-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        dir
    }

    #[test]
    fn a_matching_file_passes_and_a_different_one_names_the_line_and_the_diff_command() {
        let dir = scratch("text");
        let path = dir.join("a.snap");
        std::fs::write(&path, "one\ntwo\nthree\n").expect("write");
        assert_eq!(check(&path, "one\ntwo\nthree\n"), Ok(()));
        if updating() {
            return;
        }
        let err = check(&path, "one\n2\nthree\n").expect_err("a difference");
        assert!(err.contains("first at line 2"), "{err}");
        assert!(err.contains(r#"snapshot:  "two""#), "{err}");
        assert!(err.contains(r#"generated: "2""#), "{err}");
        let command = err
            .split("see `")
            .nth(1)
            .and_then(|rest| rest.strip_suffix('`'))
            .expect("a diff command");
        let generated = command
            .rsplit(' ')
            .next()
            .expect("the generated file's path");
        assert!(command.starts_with(&format!("diff -u {} ", path.display())));
        assert_eq!(
            std::fs::read_to_string(generated).expect("the generated text"),
            "one\n2\nthree\n"
        );
        let err = check(&dir.join("missing.snap"), "x").expect_err("missing");
        assert!(err.ends_with("missing.snap is missing"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn json_snapshots_compare_values_not_formatting() {
        let dir = scratch("json");
        let path = dir.join("doc.json");
        std::fs::write(&path, r#"{"b": [1, 2], "a": "x"}"#).expect("write");
        let same = serde_json::json!({ "a": "x", "b": [1, 2] });
        assert_eq!(check_json(&path, &same), Ok(()));
        if !updating() {
            let other = serde_json::json!({ "a": "y", "b": [1, 2] });
            assert!(check_json(&path, &other).is_err());
            std::fs::write(&path, "not json").expect("write");
            assert!(check_json(&path, &same).is_err());
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    #[should_panic(expected = "VOLLEY_UPDATE_SNAPSHOTS=1 cargo test -p x")]
    fn assert_all_says_how_to_rewrite() {
        assert_all([Ok(()), Err("a differs".to_owned())], "cargo test -p x");
    }
}
