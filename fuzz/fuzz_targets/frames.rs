//! Frame classification and the whole engine, on frames from a peer: the input is split into
//! up to 16 frames at each 0xFF byte (never part of UTF-8 text). `volley_core::fuzzing::run`
//! panics when the engine writes something that is not JSON, leaves the peer's ping
//! unanswered, or leaves a call of its own unresolved after the close.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    volley_core::fuzzing::classify(data);
    let frames: Vec<&[u8]> = data.split(|b| *b == 0xff).take(16).collect();
    volley_core::fuzzing::run(&frames);
});
