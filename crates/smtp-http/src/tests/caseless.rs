//! The caseless finder against lower-casing and a naive search.

use crate::caseless::CaselessFinder;

fn naive(needle: &str, haystack: &[u8]) -> bool {
    let lowered = haystack.to_ascii_lowercase();
    lowered
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

#[test]
fn finds_what_lower_casing_finds() {
    let haystacks: [&[u8]; 7] = [
        b"The Quick Brown FOX jumps",
        b"quick",
        b"qUIcK",
        b"quic",
        b"",
        "Grüße aus KÖLN, quickly \u{212a}".as_bytes(),
        b"zzqzzquiqquickz",
    ];
    let needles = [
        "quick",
        "fox",
        "k",
        "brown fox",
        "qu",
        "ck",
        "x",
        "z",
        "jumps",
        "e",
    ];
    let mut found = 0;
    for needle in needles {
        let finder = CaselessFinder::new(needle).unwrap();
        for haystack in haystacks {
            let expected = naive(needle, haystack);
            assert_eq!(finder.is_in(haystack), expected, "{needle} in {haystack:?}");
            found += usize::from(expected);
        }
    }
    assert!(found > 10, "{found}");
}

#[test]
fn agrees_with_lower_casing_on_generated_text() {
    // A small generator (xorshift) over an alphabet that makes near misses common.
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let alphabet = b"aAbBeE@. qQ";
    let mut found = 0;
    for _ in 0..2000 {
        let haystack: Vec<u8> = (0..next() % 40)
            .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
            .collect();
        let needle: String = (0..1 + next() % 4)
            .map(|_| char::from(b"abeq@."[(next() % 6) as usize]))
            .collect();
        let finder = CaselessFinder::new(&needle).unwrap();
        let expected = naive(&needle, &haystack);
        assert_eq!(
            finder.is_in(&haystack),
            expected,
            "{needle} in {haystack:?}"
        );
        found += usize::from(expected);
    }
    assert!(found > 200, "{found}");
}

#[test]
fn only_lower_case_ascii_needles() {
    assert!(CaselessFinder::new("").is_none());
    assert!(CaselessFinder::new("Quick").is_none());
    assert!(CaselessFinder::new("café").is_none());
}
