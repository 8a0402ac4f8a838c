//! The shared [`Verifier`]: cached verdicts, reload, and use from many threads.

use std::sync::Arc;

use smtp_auth::{hash_password, Credentials, HashScheme, Verifier};

fn verifier(inline: &str) -> Verifier {
    Verifier::new(Credentials::parse_inline(inline).unwrap())
}

#[test]
fn verifier_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Verifier>();
    assert_send_sync::<Credentials>();
}

#[test]
fn a_right_password_is_cached_and_a_wrong_one_is_not() {
    let verifier = verifier("alice:one bob:two");
    assert!(verifier.verify("alice", b"one"));
    assert_eq!(verifier.cached_logins(), 1);
    assert!(verifier.verify("alice", b"one"));
    assert_eq!(verifier.cached_logins(), 1);
    assert!(!verifier.verify("alice", b"wrong"));
    assert!(!verifier.verify("alice", b"two"));
    assert!(!verifier.verify("bob", b"one"));
    assert_eq!(verifier.cached_logins(), 1);
}

#[test]
fn the_cache_is_not_fooled_by_a_wrong_password_after_a_right_one() {
    let hash = hash_password(HashScheme::Bcrypt, b"right").unwrap();
    let verifier = verifier(&format!("alice:{hash}"));
    assert!(verifier.verify("alice", b"right"));
    assert!(!verifier.verify("alice", b"wrong"));
    assert!(!verifier.verify("alice", b"righ"));
    assert!(!verifier.verify("alice", b"right\0"));
    assert!(verifier.verify("alice", b"right"));
    assert_eq!(verifier.cached_logins(), 1);
}

#[test]
fn a_cached_login_does_not_leak_to_a_shifted_user_name() {
    // If the cache key were the plain concatenation, ("a", "bc") and ("ab", "c") would collide.
    let verifier = verifier("a:bc");
    assert!(verifier.verify("a", b"bc"));
    assert!(!verifier.verify("ab", b"c"));
    assert!(!verifier.verify("abc", b""));
}

#[test]
fn replace_swaps_credentials_and_empties_the_cache() {
    let verifier = verifier("alice:old");
    assert!(verifier.verify("alice", b"old"));
    assert_eq!(verifier.cached_logins(), 1);

    verifier.replace(Credentials::parse_inline("alice:new carol:three").unwrap());
    assert_eq!(verifier.cached_logins(), 0);
    assert_eq!(verifier.user_count(), 2);
    assert!(
        !verifier.verify("alice", b"old"),
        "a cached verdict outlived the reload"
    );
    assert!(verifier.verify("alice", b"new"));
    assert!(verifier.verify("carol", b"three"));
}

#[test]
fn plain_users_and_cram_md5_follow_the_current_credentials() {
    let verifier = verifier("tim:tanstaaftanstaaf");
    assert!(verifier.has_plain_users());
    let challenge = b"<1896.697170952@postoffice.reston.mci.net>";
    assert!(verifier.verify_cram_md5("tim", challenge, "b913a602c7eda7a495b4e6e7334d3890"));

    verifier.replace(Credentials::parse_inline("tim:{SHA}HuBr0dbbiKEV0LCm4RYYIaf29J0=").unwrap());
    assert!(!verifier.has_plain_users());
    assert!(!verifier.verify_cram_md5("tim", challenge, "b913a602c7eda7a495b4e6e7334d3890"));
    assert!(verifier.verify("tim", b"tanstaaftanstaaf"));
}

#[test]
fn many_threads_share_one_verifier() {
    let verifier = Arc::new(verifier("alice:one bob:two"));
    let workers: Vec<_> = (0..4)
        .map(|worker| {
            let verifier = Arc::clone(&verifier);
            std::thread::spawn(move || {
                for round in 0..200 {
                    assert!(verifier.verify("alice", b"one"));
                    assert!(!verifier.verify("bob", format!("bad{worker}-{round}").as_bytes()));
                    if round % 50 == 0 {
                        verifier.replace(Credentials::parse_inline("alice:one bob:two").unwrap());
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    assert!(verifier.cached_logins() <= 1);
}

#[test]
fn debug_shows_users_and_cache_size_only() {
    let verifier = verifier("alice:hunter2");
    assert!(verifier.verify("alice", b"hunter2"));
    let printed = format!("{verifier:?}");
    assert!(printed.contains("alice"), "{printed}");
    assert!(printed.contains("cached_logins: 1"), "{printed}");
    assert!(!printed.contains("hunter2"), "{printed}");
}

#[test]
fn concurrent_identical_logins_share_one_check_and_each_gets_its_own_verdict() {
    let hash = hash_password(HashScheme::Bcrypt, b"right").unwrap();
    let verifier = Arc::new(verifier(&format!("alice:{hash}")));
    // Right and wrong passwords race in pairs: waiters on a shared check must get that
    // check's verdict, never another password's.
    let threads: Vec<_> = (0..12)
        .map(|i| {
            let verifier = Arc::clone(&verifier);
            std::thread::spawn(move || {
                let password: &[u8] = if i % 2 == 0 { b"right" } else { b"wrong" };
                (i % 2 == 0, verifier.verify("alice", password))
            })
        })
        .collect();
    for handle in threads {
        let (should_pass, passed) = handle.join().unwrap();
        assert_eq!(should_pass, passed);
    }
    assert_eq!(
        verifier.cached_logins(),
        1,
        "only the right password is cached"
    );
    assert!(!verifier.verify("alice", b"wrong"));
}
