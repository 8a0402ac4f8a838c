//! The caseless finder against lower-casing and a naive search.

use crate::caseless::{has_ascii_uppercase, CaselessFinder};

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

#[test]
fn capitals_are_seen_in_every_position_and_only_capitals() {
    for len in 0..20 {
        for at in 0..len {
            for capital in [b'A', b'M', b'Z'] {
                let mut text = vec![b'a'; len];
                text[at] = capital;
                let needle = char::from(capital.to_ascii_lowercase()).to_string();
                assert!(
                    CaselessFinder::new(&needle).unwrap().is_in(&text),
                    "{text:?}"
                );
            }
        }
    }
}

#[test]
fn the_capital_test_agrees_with_the_standard_library_for_every_byte() {
    for byte in 0..=u8::MAX {
        for at in 0..17 {
            let mut text = vec![b'a'; 17];
            text[at] = byte;
            assert_eq!(
                has_ascii_uppercase(&text),
                byte.is_ascii_uppercase(),
                "{byte:#x} at {at}"
            );
        }
    }
}
