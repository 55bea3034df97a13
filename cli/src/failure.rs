//! [`Failure`]: why a command did not do what it was asked, and the exit code of each case.

use std::process::ExitCode;

use volley_client::ConnectError;
use volley_core::ErrorObject;

use crate::output;

/// The exit codes, as `--help` lists them.
pub(crate) const EXIT_CODES: &str = "\
Exit codes:
  0   done
  1   the server answered with an error (printed to stderr: code, message, data)
  2   could not connect: refused, TLS, the WebSocket handshake, no connection in time;
      or (bridge) could not listen on the address
  3   connected, but the call got no answer (it timed out, or the connection closed
      first), or the notification could not be written
  4   a file or document could not be read or written
  64  the command line is wrong (unknown options, params that cannot be read)";

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Failure {
    /// The command line cannot be used as it is (params that cannot be read, a header
    /// without a name). Exit 64.
    #[error("{0}")]
    Usage(String),
    /// No connection to the server: refused, TLS, the handshake, or no connection within the
    /// timeout. Exit 2.
    #[error("cannot reach {url}")]
    Connect {
        /// The URL dialed.
        url: String,
        /// What went wrong.
        #[source]
        source: ConnectError,
    },
    /// `volley bridge` cannot listen on the address (taken, not this machine's, not an
    /// address). Exit 2.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address given.
        addr: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The server answered the call with a JSON-RPC error. Exit 1.
    #[error("error {}: {}", .0.code(), .0.message())]
    Remote(ErrorObject),
    /// The call got no answer: it timed out, or the connection closed before the answer
    /// came. Exit 3.
    #[error("{method}: no answer")]
    NoAnswer {
        /// The method called.
        method: String,
        /// Why no answer came.
        #[source]
        source: volley_core::Error,
    },
    /// The notification could not be written: the connection closed first, or did not close
    /// cleanly in time. Exit 3.
    #[error("{method}: not sent")]
    NotSent {
        /// The notification's method.
        method: String,
        /// Why it was not sent.
        #[source]
        source: volley_core::Error,
    },
    /// A file or a document that cannot be read or written. Exit 4.
    #[error("{what}")]
    Input {
        /// What could not be done (`cannot read api.json`).
        what: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl Failure {
    /// A failure to read or write `what`, because of `source`.
    pub(crate) fn input(
        what: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Failure::Input {
            what: what.into(),
            source: source.into(),
        }
    }

    /// The exit code of this failure.
    pub(crate) fn code(&self) -> u8 {
        match self {
            Failure::Remote(_) => 1,
            Failure::Connect { .. } | Failure::Bind { .. } => 2,
            Failure::NoAnswer { .. } | Failure::NotSent { .. } => 3,
            Failure::Input { .. } => 4,
            Failure::Usage(_) => 64,
        }
    }

    /// Prints the failure to stderr and gives the process's exit code.
    pub(crate) fn report(self) -> ExitCode {
        match &self {
            Failure::Remote(error) => {
                // The server's own words: as they came, without the program's name.
                output::stderr(&self.to_string());
                if let Some(data) = error.data() {
                    output::stderr(&format!("data: {}", output::compact(data.get())));
                }
            }
            _ => output::error(&format!("{}{}", chain(&self), hint(&self))),
        }
        ExitCode::from(self.code())
    }
}

/// The error's message and its sources', each once, joined by `: `.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.ends_with(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

/// What the user can do about a connection refused for want of credentials or trust.
fn hint(failure: &Failure) -> &'static str {
    let Failure::Connect { source, .. } = failure else {
        return "";
    };
    match source.status() {
        Some(401 | 403) => " (send credentials with --token or --header)",
        _ if chain(failure).contains("certificate") => {
            " (trust the server's certificate with --ca PEM_FILE)"
        }
        _ => "",
    }
}

/// Reports a command line clap could not read: the help and the version go to stdout and
/// exit 0; anything else goes to stderr, exit 64.
pub(crate) fn usage(error: clap::Error) -> ExitCode {
    let _ = error.print();
    if error.use_stderr() {
        ExitCode::from(64)
    } else {
        ExitCode::SUCCESS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_failure_has_its_exit_code() {
        let remote = Failure::Remote(ErrorObject::owned(-32601, "Method not found", None::<()>));
        assert_eq!(remote.to_string(), "error -32601: Method not found");
        assert_eq!(remote.code(), 1);
        let refused = Failure::Connect {
            url: "ws://127.0.0.1:1/ws".into(),
            source: ConnectError::Refused {
                status: 401,
                body: "a token is needed".into(),
            },
        };
        assert_eq!(
            format!("{}{}", chain(&refused), hint(&refused)),
            "cannot reach ws://127.0.0.1:1/ws: the server refused the connection: 401: a \
             token is needed (send credentials with --token or --header)"
        );
        assert_eq!(refused.code(), 2);
        let timeout = Failure::NoAnswer {
            method: "ask".into(),
            source: volley_core::Error::Timeout(std::time::Duration::from_secs(1)),
        };
        assert_eq!(chain(&timeout), "ask: no answer: call timed out after 1s");
        assert_eq!(timeout.code(), 3);
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "not found");
        assert_eq!(
            chain(&Failure::input("cannot read x.json", io)),
            "cannot read x.json: not found"
        );
        assert_eq!(Failure::Usage("bad".into()).code(), 64);
    }
}
