//! The outside programs some tests need (node, npm packages, python3, chromium): each check
//! says what is missing and the command that installs it, and [`require`] turns a failed
//! check into `SKIPPED: <why>` (the test returns early and passes) or, with
//! `VOLLEY_REQUIRE_ALL=1`, into a failure.
//!
//! ```no_run
//! use volley_testing::{tools, workspace_root};
//!
//! if !tools::require(&[tools::node_available(), tools::npm_packages(workspace_root(), "server/js")]) {
//!     return; // SKIPPED: ... went to stderr
//! }
//! ```

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// One requirement: `Err` holds `<what is missing>, install with <command>`.
pub type Check = Result<(), String>;

/// Whether every outside program must be there (`VOLLEY_REQUIRE_ALL=1`).
pub fn required() -> bool {
    std::env::var("VOLLEY_REQUIRE_ALL").as_deref() == Ok("1")
}

/// True when every check passed; otherwise the first failure goes to [`missing`].
pub fn require(checks: &[Check]) -> bool {
    match checks.iter().find_map(|check| check.as_ref().err()) {
        None => true,
        Some(why) => missing(why),
    }
}

/// Prints `SKIPPED: {why}` and returns false; panics instead under `VOLLEY_REQUIRE_ALL=1`.
///
/// The line goes straight to the process's stderr, not through `println!`, which the test
/// harness captures and shows only for failing tests: a skip is seen in the default output
/// of `cargo test`.
pub fn missing(why: &str) -> bool {
    if required() {
        panic!("VOLLEY_REQUIRE_ALL=1 but {why}");
    }
    let test = std::thread::current();
    let name = test.name().unwrap_or("a test");
    let line = format!("SKIPPED: {why} ({name})\n");
    let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
    false
}

/// The npm packages of `root/dir`, installed from its lock file with `npm ci` when its
/// `node_modules` is missing (once per directory and process). `Err` when npm is missing
/// or the install fails (no registry, for instance).
pub fn npm_packages(root: &Path, dir: &str) -> Check {
    static INSTALLED: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());
    let path = root.join(dir);
    let install = format!("`cd {dir} && npm ci`");
    let mut done = INSTALLED.lock().unwrap_or_else(|p| p.into_inner());
    if path.join("node_modules").is_dir() || done.contains(&path) {
        return Ok(());
    }
    done.push(path.clone());
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status();
    match status {
        Ok(s) if s.success() => {
            let line = format!("installed the npm packages of {dir} from its lock file\n");
            let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
            Ok(())
        }
        Ok(_) => Err(format!("`npm ci` failed in {dir}, install with {install}")),
        Err(_) => Err(format!(
            "npm is not installed (needed for {dir}), install with `apt-get install -y npm` then {install}"
        )),
    }
}

/// `node --version`, when node runs.
fn node_version() -> Result<String, String> {
    match Command::new("node")
        .arg("--version")
        .stdin(Stdio::null())
        .output()
    {
        Ok(out) if out.status.success() => {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
        }
        _ => Err("node is not installed, install with `apt-get install -y nodejs npm`".into()),
    }
}

/// Node, any version.
pub fn node_available() -> Check {
    node_version().map(|_| ())
}

/// Node `major` or newer; `needed_by` names what needs that version.
pub fn node_at_least(major: u32, needed_by: &str) -> Check {
    let version = node_version()?;
    let found: u32 = version
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    if found < major {
        return Err(format!(
            "node {version} is too old ({needed_by} needs {major} or newer), install a newer one \
             with `apt-get install -y nodejs`"
        ));
    }
    Ok(())
}

/// python3.
pub fn python3_available() -> Check {
    match Command::new("python3")
        .arg("--version")
        .stdin(Stdio::null())
        .output()
    {
        Ok(out) if out.status.success() => Ok(()),
        _ => Err("python3 is not installed, install with `apt-get install -y python3`".into()),
    }
}

/// The `kill` program, to stop and resume processes with signals (procps).
pub fn kill_available() -> Check {
    match Command::new("kill")
        .arg("-l")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .output()
    {
        Ok(out) if out.status.success() => Ok(()),
        _ => Err(
            "the kill program is not installed, install with `apt-get install -y procps`".into(),
        ),
    }
}

/// The directory `root/relative`, which `install` (run from `root`) creates.
pub fn has_dir(root: &Path, relative: &str, install: &str) -> Check {
    if root.join(relative).is_dir() {
        Ok(())
    } else {
        Err(format!("{relative} is missing, install with `{install}`"))
    }
}

/// The file `root/relative`, which `install` (run from `root`) creates.
pub fn has_file(root: &Path, relative: &str, install: &str) -> Check {
    if root.join(relative).is_file() {
        Ok(())
    } else {
        Err(format!("{relative} is missing, install with `{install}`"))
    }
}

/// The browser the Chromium tests drive: `$CHROMIUM`, else `/usr/bin/chromium` (as the
/// scripts in tests/browser/ pick it).
pub fn chromium_path() -> PathBuf {
    std::env::var_os("CHROMIUM")
        .filter(|p| !p.is_empty())
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// The browser of [`chromium_path`].
pub fn chromium_available() -> Check {
    let path = chromium_path();
    if path.is_file() {
        Ok(())
    } else {
        Err(format!(
            "{} is missing, install with `apt-get install -y chromium`",
            path.display()
        ))
    }
}
