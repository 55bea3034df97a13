//! Every input in the fuzz corpus (`fuzz/corpus/frames/`, grown by `cargo fuzz run frames`)
//! run again through the same checks as the fuzz target, in the normal suite.

use std::path::Path;

#[test]
fn the_fuzz_corpus_still_passes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/frames");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("fuzz/corpus/frames") {
        let path = entry.expect("an entry").path();
        let data = std::fs::read(&path).expect("read an input");
        volley_core::fuzzing::classify(&data);
        let frames: Vec<&[u8]> = data.split(|b| *b == 0xff).take(16).collect();
        volley_core::fuzzing::run(&frames);
        count += 1;
    }
    assert!(count >= 5, "only {count} inputs in {}", dir.display());
}
