//! Errors in the contract: `#[derive(volley::RpcError)]` on the wire (code, message, data),
//! stubs that return `CallError<E>` with the peer's error decoded and everything else apart,
//! errors passed on through a handler, and the documents listing each code.

mod common;

use std::time::Duration;

use common::{raw_connect, raw_peer, t};
use serde_json::json;
use volley::codegen::{Api, Side, asyncapi, openrpc};
use volley::{CallError, Error, RemoteService, RpcError, Server, codes};

/// Why a bid was refused.
#[derive(Debug, Clone, PartialEq, volley::RpcError)]
pub enum BidError {
    /// The bid is below the current price.
    #[code(4001)]
    #[message("bid too low: at least {minimum}")]
    TooLow {
        /// The lowest bid taken now.
        #[serde(rename = "min")]
        minimum: u64,
    },
    /// The auction has ended.
    #[code(4002)]
    #[message("the auction is closed")]
    Closed,
    /// No lot has this number.
    #[code(4003)]
    #[message("no lot {0} (of {1})")]
    UnknownLot(u32, u32),
}

/// The auction house.
#[volley::rpc]
pub trait Auction {
    /// Bids `amount` on `lot`.
    async fn bid(&self, lot: u32, amount: u64) -> Result<u64, BidError>;
    /// Never answers in time.
    #[rpc(timeout = "50ms")]
    async fn stall(&self) -> Result<(), BidError>;
    /// Asks the caller's `Bidder` for a bid and passes its error on.
    async fn relay(&self, cx: &volley::Context) -> volley::Result<u64>;
}

/// What a bidder offers the auction house.
#[volley::rpc]
pub trait Bidder {
    /// The bidder's next bid.
    async fn next_bid(&self) -> Result<u64, BidError>;
}

struct House;

impl Auction for House {
    async fn bid(&self, lot: u32, amount: u64) -> Result<u64, BidError> {
        match (lot, amount) {
            (0, _) => Err(BidError::Closed),
            (lot, _) if lot > 10 => Err(BidError::UnknownLot(lot, 10)),
            (_, amount) if amount < 100 => Err(BidError::TooLow { minimum: 100 }),
            (_, amount) => Ok(amount),
        }
    }

    async fn stall(&self) -> Result<(), BidError> {
        std::future::pending().await
    }

    async fn relay(&self, cx: &volley::Context) -> volley::Result<u64> {
        Ok(BidderClient::new(cx.peer()).next_bid().await?)
    }
}

struct Closed;

impl Bidder for Closed {
    async fn next_bid(&self) -> Result<u64, BidError> {
        Err(BidError::Closed)
    }
}

async fn start() -> volley::RunningServer {
    let server = Server::builder()
        .add_service(House.into_service())
        .add_remote_service::<BidderClient>()
        .build();
    t(server.listen("127.0.0.1:0")).await.expect("listen")
}

#[tokio::test]
async fn each_variant_goes_on_the_wire_with_its_code_message_and_data() {
    let running = start().await;
    let mut raw = raw_connect(&running.ws_url()).await;
    for (id, params, error) in [
        (
            1,
            json!([1, 5]),
            json!({"code": 4001, "message": "bid too low: at least 100", "data": {"min": 100}}),
        ),
        (
            2,
            json!({"lot": 0, "amount": 500}),
            json!({"code": 4002, "message": "the auction is closed"}),
        ),
        (
            3,
            json!([12, 500]),
            json!({"code": 4003, "message": "no lot 12 (of 10)", "data": [12, 10]}),
        ),
    ] {
        raw.send_json(&json!({"jsonrpc": "2.0", "id": id, "method": "bid", "params": params}))
            .await;
        assert_eq!(
            raw.recv().await,
            json!({"jsonrpc": "2.0", "id": id, "error": error})
        );
    }
    t(running.shutdown()).await;
}

#[tokio::test]
async fn the_stub_decodes_the_methods_own_errors_and_keeps_the_rest_apart() {
    let running = start().await;
    let client = t(volley::Client::builder()
        .add_service(Closed.into_service())
        .reconnect(None)
        .connect(&running.ws_url()))
    .await
    .expect("connect");
    let auction = AuctionClient::new(client.peer());
    assert_eq!(t(auction.bid(1, 150)).await.unwrap(), 150);
    let cases = [
        ((1, 5), BidError::TooLow { minimum: 100 }),
        ((0, 5), BidError::Closed),
        ((11, 500), BidError::UnknownLot(11, 10)),
    ];
    for ((lot, amount), expected) in cases {
        // Its code without building the error object, the same as the object's.
        let object = volley::ErrorObject::from(expected.clone());
        assert_eq!(expected.code(), object.code());
        let err = t(auction.bid(lot, amount)).await.unwrap_err();
        assert_eq!(err.app(), Some(&expected), "{err:?}");
        assert_eq!(err.to_string(), expected.to_string());
    }
    // The method's deadline, kept by the server (the caller waits longer): the server's error,
    // not one of BidError's.
    let patient = auction.clone().with_timeout(Duration::from_secs(10));
    let err = t(patient.stall()).await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(err.remote().map(|e| e.code()), Some(codes::TIMED_OUT));
    // A handler that calls another peer passes its error on with `?`: the same error object.
    match t(auction.relay()).await {
        Err(Error::Remote(e)) => {
            assert_eq!(BidError::from_error_object(&e), Some(BidError::Closed));
        }
        other => panic!("expected the bidder's error, got {other:?}"),
    }
    // No answer at all: the connection went away.
    let stalled = tokio::spawn({
        let auction = auction.clone();
        async move { auction.stall().await }
    });
    drop(client);
    let err = t(stalled).await.unwrap().unwrap_err();
    assert!(
        matches!(err, CallError::Other(ref e) if e.is_disconnected() || e.is_timeout()),
        "{err:?}"
    );
    t(running.shutdown()).await;
}

#[tokio::test]
async fn an_error_with_a_known_code_but_other_data_stays_undecoded() {
    // The server calls a raw client's `next_bid` through the typed stub.
    let server = Server::builder()
        .add_remote_service::<BidderClient>()
        .build();
    let (running, mut raw, peer) = raw_peer(server).await;
    let bidder = BidderClient::new(&peer).with_timeout(Duration::from_secs(10));
    for (error, decoded) in [
        (
            json!({"code": 4001, "message": "low", "data": {"min": 7}}),
            Some(BidError::TooLow { minimum: 7 }),
        ),
        (
            json!({"code": 4001, "message": "low", "data": "seven"}),
            None,
        ),
        (json!({"code": 4001, "message": "low"}), None),
        (
            json!({"code": 4002, "message": "any text"}),
            Some(BidError::Closed),
        ),
        (json!({"code": 4999, "message": "unknown"}), None),
    ] {
        let call = tokio::spawn({
            let bidder = bidder.clone();
            async move { bidder.next_bid().await }
        });
        let request = raw.recv().await;
        raw.send_json(&json!({"jsonrpc": "2.0", "id": request["id"], "error": error}))
            .await;
        let err = t(call).await.unwrap().unwrap_err();
        match decoded {
            Some(expected) => assert_eq!(err.into_app(), Some(expected)),
            None => assert_eq!(
                err.remote().map(|e| e.code()),
                error["code"].as_i64().map(|c| c as i32),
                "{err:?}"
            ),
        }
    }
    t(running.shutdown()).await;
}

#[test]
fn the_documents_list_each_code_with_its_message_and_data_schema() {
    let api = Api::new(Side::Server)
        .with_served([AuctionClient::DESCRIPTION])
        .with_remote([BidderClient::DESCRIPTION]);
    let doc = openrpc(&api, None);
    let bid = doc["methods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "bid")
        .unwrap();
    let errors: Vec<(i64, &str)> = bid["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["code"].as_i64().unwrap(), e["message"].as_str().unwrap()))
        .collect();
    assert_eq!(
        errors,
        [
            (4001, "bid too low: at least {minimum}"),
            (4002, "the auction is closed"),
            (4003, "no lot {0} (of {1})"),
        ]
    );
    let schemas = &bid["x-error-schemas"];
    assert!(schemas.get("4002").is_none(), "no data: no schema");
    let too_low = schemas["4001"]["$ref"].as_str().unwrap();
    let name = too_low.rsplit('/').next().unwrap();
    let schema = &doc["components"]["schemas"][name];
    assert!(schema["properties"]["min"].is_object(), "{schema}");
    assert_eq!(schema["required"], json!(["min"]));
    // A method without its own error type lists none.
    let relay = doc["methods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "relay")
        .unwrap();
    assert!(relay.get("errors").is_none());

    let doc = asyncapi(&api, "/ws");
    let messages = &doc["components"]["messages"];
    for code in [4001, 4002, 4003] {
        let message = &messages[format!("error.BidError.{code}")];
        assert_eq!(
            message["payload"]["properties"]["error"]["properties"]["code"]["const"], code,
            "{message}"
        );
    }
}
