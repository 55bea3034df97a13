//! The binary as a user runs it: it serves the page on the address it is given and says
//! where, explains `--addr` with `--help`, and refuses an unknown argument.

use volley_testing::process;

const BIN: &str = env!("CARGO_BIN_EXE_example-dashboard");

#[tokio::test]
async fn it_serves_the_page_on_the_address_it_is_given() {
    process::assert_serves_page(BIN, example_dashboard::INDEX_HTML).await;
}

#[tokio::test]
async fn help_explains_the_address_and_an_unknown_argument_is_refused() {
    process::assert_addr_help_and_refusal(BIN).await;
}
