//! The client side: [`Console`] and [`run_client`].

use std::time::Duration;

use tokio::sync::mpsc;

use crate::{Browser, CalculatorClient};

/// An error from [`run_client`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The client's implementation of [`Browser`]: prints what the server sends, answers
/// `confirm` with a fixed answer, and hands every tick to a channel.
#[derive(Debug, Clone)]
pub struct Console {
    /// The answer to every `confirm`.
    pub answer: bool,
    /// Receives the `n` of every `tick`.
    pub ticks: mpsc::UnboundedSender<u64>,
    /// Prints nothing for ticks and questions.
    pub quiet: bool,
}

impl Browser for Console {
    async fn confirm(&self, question: String) -> volley::Result<bool> {
        let word = if self.answer { "yes" } else { "no" };
        if !self.quiet {
            println!("server asks: {question} -> answering {word}");
        }
        Ok(self.answer)
    }

    async fn tick(&self, n: u64) {
        if !self.quiet {
            println!("tick {n}");
        }
        let _ = self.ticks.send(n);
    }
}

/// What [`run_client`] does.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// The question sent with `ask`.
    pub question: String,
    /// How this client answers the server's `confirm`.
    pub answer: bool,
    /// How many ticks to wait for before closing.
    pub ticks: usize,
    /// Longest wait for each tick.
    pub tick_timeout: Duration,
    /// Sent as `Authorization: Bearer <token>`, when set.
    pub token: Option<String>,
    /// A PEM certificate to trust for `wss://` (the server's own, when self-signed).
    pub ca_pem: Option<Vec<u8>>,
    /// Reconnect when the socket is lost (the default).
    pub reconnect: bool,
    /// Ask the server for a resumable session (the default).
    pub resume: bool,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            question: "shall we play a game?".to_owned(),
            answer: true,
            ticks: 3,
            tick_timeout: Duration::from_secs(5),
            token: None,
            ca_pem: None,
            reconnect: true,
            resume: true,
        }
    }
}

/// What [`run_client`] saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The result of `add(1, 2)`.
    pub sum: i64,
    /// The result of `ask(question)`: this client's own answer, relayed by the server.
    pub confirmed: bool,
    /// The ticks received, in order.
    pub ticks: Vec<u64>,
}

/// Connects to `url` serving [`Console`], calls `add(1, 2)`, calls `ask` (which the server
/// answers by calling this client's `confirm`), waits for `options.ticks` ticks, and closes
/// the connection.
pub async fn run_client(url: &str, options: &ClientOptions) -> Result<Summary, BoxError> {
    let (ticks_tx, ticks_rx) = mpsc::unbounded_channel();
    let console = Console {
        answer: options.answer,
        ticks: ticks_tx,
        quiet: false,
    };
    let client = builder(options, console).connect(url).await?;
    let summary = converse(&client, options, ticks_rx).await;
    client.close();
    client.closed().await;
    summary
}

/// A client builder serving `console`, with the options' token, certificate, reconnect
/// and resumption.
pub(crate) fn builder(options: &ClientOptions, console: Console) -> volley::ClientBuilder {
    let mut builder = volley::Client::builder().add_service(console.into_service());
    if let Some(token) = &options.token {
        builder = builder.bearer_token(token);
    }
    if let Some(pem) = &options.ca_pem {
        builder = builder.add_root_certificate_pem(pem);
    }
    builder = if options.reconnect {
        // Calls made while the server restarts wait for it (up to 10 s) instead of failing.
        let policy =
            volley::Reconnect::default().wait_for_connection(Some(Duration::from_secs(10)));
        builder.reconnect(Some(policy))
    } else {
        builder.reconnect(None)
    };
    if !options.resume {
        builder = builder.resumption(None);
    }
    builder
}

async fn converse(
    client: &volley::Client,
    options: &ClientOptions,
    mut ticks_rx: mpsc::UnboundedReceiver<u64>,
) -> Result<Summary, BoxError> {
    let calc = CalculatorClient::new(client.peer());
    let sum = calc.add(1, 2).await?;
    println!("add(1, 2) = {sum}");
    let confirmed = calc.ask(options.question.clone()).await?;
    println!("ask({:?}) = {confirmed}", options.question);

    let mut ticks = Vec::with_capacity(options.ticks);
    while ticks.len() < options.ticks {
        let next = tokio::time::timeout(options.tick_timeout, async {
            tokio::select! {
                n = ticks_rx.recv() => n,
                _ = client.closed() => None,
            }
        });
        match next.await {
            Ok(Some(n)) => ticks.push(n),
            Ok(None) => return Err("the connection closed before the last tick".into()),
            Err(_) => {
                let waited = options.tick_timeout;
                return Err(format!("no tick from the server within {waited:?}").into());
            }
        }
    }
    Ok(Summary {
        sum,
        confirmed,
        ticks,
    })
}
