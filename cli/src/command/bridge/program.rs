//! The program a connection runs: started with its stdin and stdout piped to the bridge and
//! its stderr on volley's, ended by closing its stdin and killing it after a grace period,
//! and its exit told as a close frame.

use std::io;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::process::{Child, Command};

/// How long a program whose stdin was closed has to exit before it is killed.
pub(crate) const GRACE: Duration = Duration::from_secs(2);

/// The command line to run for each connection.
#[derive(Debug, Clone)]
pub(crate) struct Program {
    program: String,
    args: Vec<String>,
}

impl Program {
    /// `command[0]` with the arguments `command[1..]`; `None` for an empty command.
    pub(crate) fn new(command: &[String]) -> Option<Self> {
        let (program, args) = command.split_first()?;
        Some(Self {
            program: program.clone(),
            args: args.to_vec(),
        })
    }

    /// The program's name, as given.
    pub(crate) fn name(&self) -> &str {
        &self.program
    }

    /// Starts the program. It is killed if its [`Child`] is dropped before it was ended.
    ///
    /// On Unix it gets a process group of its own, so a Ctrl-C in volley's terminal reaches
    /// volley alone, which then ends its programs as a closed socket does.
    pub(crate) fn start(&self) -> io::Result<Child> {
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        #[cfg(unix)]
        command.process_group(0);
        command.spawn()
    }
}

/// How a program ended.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ended {
    /// Its exit status, `None` when it could not be waited for.
    pub(crate) status: Option<ExitStatus>,
    /// Whether it was killed at the end of the grace period.
    pub(crate) killed: bool,
}

/// Waits for `child`, whose stdin is closed, to exit: [`GRACE`] at most, then kills it. The
/// process is reaped either way.
pub(crate) async fn end(child: &mut Child) -> Ended {
    if let Ok(status) = tokio::time::timeout(GRACE, child.wait()).await {
        return Ended {
            status: status.ok(),
            killed: false,
        };
    }
    let _ = child.kill().await;
    Ended {
        status: child.wait().await.ok(),
        killed: true,
    }
}

/// How the program ended, after "the program": `exited`, `exited with status 3`, `was
/// killed by signal 9`.
pub(crate) fn describe(status: Option<ExitStatus>) -> String {
    let Some(status) = status else {
        return "ended (its status is unknown)".to_owned();
    };
    if let Some(code) = status.code() {
        return match code {
            0 => "exited".to_owned(),
            code => format!("exited with status {code}"),
        };
    }
    #[cfg(unix)]
    if let Some(signal) = std::os::unix::process::ExitStatusExt::signal(&status) {
        return format!("was killed by signal {signal}");
    }
    format!("ended ({status})")
}

/// The close frame for the program's exit: 1000 when it exited with status 0, else 1011.
pub(crate) fn exit_close(status: Option<ExitStatus>) -> (u16, String) {
    let code = if status.is_some_and(|s| s.success()) {
        1000
    } else {
        1011
    };
    (code, format!("the program {}", describe(status)))
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::process::ExitStatusExt;

    use super::*;

    #[test]
    fn an_exit_is_told_as_a_close_frame() {
        let exit = |code: i32| Some(ExitStatus::from_raw(code << 8));
        assert_eq!(exit_close(exit(0)), (1000, "the program exited".to_owned()));
        assert_eq!(
            exit_close(exit(3)),
            (1011, "the program exited with status 3".to_owned())
        );
        assert_eq!(
            exit_close(Some(ExitStatus::from_raw(9))),
            (1011, "the program was killed by signal 9".to_owned())
        );
        assert_eq!(exit_close(None).0, 1011);
    }
}
