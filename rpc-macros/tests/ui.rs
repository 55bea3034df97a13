//! Compile tests for `#[volley::rpc]`: traits that must expand, compile and run, and mistakes
//! that must be refused with an error pointing at the offending token.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*/*.rs");
}
