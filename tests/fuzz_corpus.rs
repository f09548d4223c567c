//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`) through the same checks the
//! fuzz targets run (`k2d::fuzz_checks`), so a regression on any input the fuzzer or the
//! hostile-input conformance corpus found is caught by `cargo test`, without libFuzzer.

use std::path::Path;

type Check = fn(&[u8]);

const TARGETS: [(&str, Check); 4] = [
    ("body", k2d::fuzz_checks::body),
    ("protobuf", k2d::fuzz_checks::protobuf),
    ("patch", k2d::fuzz_checks::patch),
    ("selectors", k2d::fuzz_checks::selectors),
];

#[test]
fn every_corpus_input_passes_its_target_checks() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    for (target, check) in TARGETS {
        let dir = root.join(target);
        let mut inputs: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        inputs.sort();
        assert!(!inputs.is_empty(), "no corpus for {target}");
        for input in inputs {
            let data = std::fs::read(&input).unwrap();
            let outcome = std::panic::catch_unwind(|| check(&data));
            assert!(outcome.is_ok(), "{target}: {} fails", input.display());
        }
    }
}
