//! Generated TypeScript modules through `tsc`, with the strict options of
//! `tests/ts/tsconfig.json` and the compiler of `tests/ts/node_modules` (installed from its
//! lock file when missing).
//!
//! ```no_run
//! # async fn check(module: String) {
//! use volley_testing::typescript;
//!
//! if !typescript::ready() {
//!     return; // SKIPPED: ... went to stderr
//! }
//! if let Err(errors) = typescript::type_check(&[("my_api", &module)]).await {
//!     panic!("{errors}");
//! }
//! # }
//! ```

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::{tools, workspace_root};

/// How long one `tsc` run may take.
const TSC_DEADLINE: Duration = Duration::from_secs(180);

/// Whether node and `tests/ts/node_modules` (with `tsc` and `ws`) are there; prints SKIPPED
/// (or fails under `VOLLEY_REQUIRE_ALL=1`) when they are not.
pub fn ready() -> bool {
    let root = workspace_root();
    let install = "cd tests/ts && npm ci";
    tools::require(&[
        tools::node_available(),
        tools::npm_packages(root, "tests/ts"),
        tools::has_file(root, "tests/ts/node_modules/typescript/bin/tsc", install),
        tools::has_dir(root, "tests/ts/node_modules/ws", install),
    ])
}

/// The TypeScript compiler, run as `node <tsc>`.
pub fn tsc() -> PathBuf {
    workspace_root().join("tests/ts/node_modules/typescript/bin/tsc")
}

/// Type-checks `modules` (name without `.ts`, text) together with `volley.js` and its types
/// (`server/js/`), in a fresh temporary directory whose `tsconfig.json` extends
/// `tests/ts/tsconfig.json`. `Err` holds what tsc said. Panics when tsc runs longer than
/// 180 s.
pub async fn type_check(modules: &[(&str, &str)]) -> Result<(), String> {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("volley-tsc-{}-{run}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let write = |name: &str, text: &str| {
        std::fs::write(dir.join(name), text).unwrap_or_else(|e| panic!("write {name}: {e}"));
    };
    for (name, text) in modules {
        write(&format!("{name}.ts"), text);
    }
    for file in ["volley.js", "volley.d.ts"] {
        std::fs::copy(
            workspace_root().join("server/js").join(file),
            dir.join(file),
        )
        .unwrap_or_else(|e| panic!("copy server/js/{file}: {e}"));
    }
    let base = workspace_root().join("tests/ts/tsconfig.json");
    let tsconfig = serde_json::json!({
        "extends": base.to_str().expect("a UTF-8 path"),
        "include": ["*.ts"],
    });
    write("tsconfig.json", &tsconfig.to_string());
    // As in tests/ts: the modules are ES modules.
    write("package.json", r#"{ "private": true, "type": "module" }"#);

    let run = tokio::process::Command::new("node")
        .arg(tsc())
        .args(["-p", "tsconfig.json", "--pretty", "false"])
        .current_dir(&dir)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(TSC_DEADLINE, run)
        .await
        .unwrap_or_else(|_| panic!("tsc ran longer than {TSC_DEADLINE:?}"))
        .expect("run node");
    let _ = std::fs::remove_dir_all(&dir);
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "tsc failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn tsc_passes_a_sound_module_and_fails_a_wrong_one() {
        if !ready() {
            return;
        }
        let good = "import { connect } from \"./volley.js\";\n\
                    export const open: typeof connect = connect;\n";
        type_check(&[("good", good)]).await.expect("a sound module");
        let bad = "export const n: number = \"one\";\n";
        let errors = type_check(&[("bad", bad)]).await.expect_err("a type error");
        assert!(errors.contains("bad.ts(1,14): error TS2322"), "{errors}");
    }
}
