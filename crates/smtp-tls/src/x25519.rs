//! The X25519 key exchange, done by `graviola` where the CPU runs it.
//!
//! Every full handshake generates a key pair and agrees a secret with the client's share:
//! almost always X25519, the first group of every common client. `ring`'s X25519 (BoringSSL's
//! C around an ADX multiplication) took 30 µs a handshake here even built by clang; `graviola`
//! runs s2n-bignum's formally verified x86-64 and AArch64 code, in pure Rust with inline
//! assembly, and takes 20.5 µs (docs/benchmarks.md, fifteenth round): the largest single piece
//! of a STARTTLS session's CPU time that was still open.
//!
//! Only this one group moves. The cipher suites, signatures, ticket sealing, randomness and the
//! P-256 and P-384 groups stay with the `ring` provider, and so does X25519 itself on CPUs
//! `graviola` does not run on (x86-64 without ADX, BMI1, AVX2, AES or carry-less
//! multiplication, AArch64 without AES, SHA-2 or PMULL) and on every other architecture, where
//! the dependency is not even built. [`kx_groups`] makes that choice once, when the provider is
//! built.
//!
//! The private key is drawn from the kernel for each handshake (`graviola`'s `new_random`,
//! through `getrandom`) and zeroed when dropped, as `ring`'s is; a peer share that is not 32
//! bytes, or a low-order point that makes the secret zero, fails the handshake as
//! `InvalidKeyShare`, as with `ring`.

use rustls::crypto::SupportedKxGroup;

/// The key-exchange groups the server offers: `ring`'s, in `ring`'s order, with X25519 done by
/// `graviola` when this CPU runs it. Public so that the bench's floor (`xtask`) does the same
/// work as the server.
pub fn kx_groups() -> Vec<&'static dyn SupportedKxGroup> {
    with_x25519(fast::x25519())
}

/// `ring`'s groups, its X25519 replaced by `x25519` if there is one.
fn with_x25519(
    x25519: Option<&'static dyn SupportedKxGroup>,
) -> Vec<&'static dyn SupportedKxGroup> {
    let mut groups = rustls::crypto::ring::default_provider().kx_groups;
    if let Some(x25519) = x25519 {
        for group in &mut groups {
            if group.name() == rustls::NamedGroup::X25519 {
                *group = x25519;
            }
        }
    }
    groups
}

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
mod fast {
    use graviola::key_agreement::x25519::{PrivateKey, PublicKey};
    use rustls::crypto::{
        ActiveKeyExchange, CompletedKeyExchange, GetRandomFailed, SharedSecret, SupportedKxGroup,
    };
    use rustls::ffdhe_groups::FfdheGroup;
    use rustls::{Error, NamedGroup, PeerMisbehaved};

    /// `graviola`'s X25519, if it runs on this CPU (it checks the features it needs).
    pub(super) fn x25519() -> Option<&'static dyn SupportedKxGroup> {
        graviola::util::is_cpu_supported().then_some(&Group)
    }

    struct Group;

    /// Told apart from `ring`'s, whose `Debug` is the group's name alone.
    impl std::fmt::Debug for Group {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("X25519 (graviola)")
        }
    }

    impl SupportedKxGroup for Group {
        fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, Error> {
            let (private, public) = key_pair()?;
            Ok(Box::new(KeyExchange { private, public }))
        }

        /// TLS 1.3's server side: the key pair and the secret at once, without the box.
        fn start_and_complete(&self, peer: &[u8]) -> Result<CompletedKeyExchange, Error> {
            let (private, public) = key_pair()?;
            Ok(CompletedKeyExchange {
                group: NamedGroup::X25519,
                pub_key: public.to_vec(),
                secret: agree(private, peer)?,
            })
        }

        fn name(&self) -> NamedGroup {
            NamedGroup::X25519
        }

        /// Not a finite-field group: said outright, as rustls asks of every group (its default
        /// looks the name up in its table of them), and as `ring`'s groups do.
        fn ffdhe_group(&self) -> Option<FfdheGroup<'static>> {
            None
        }
    }

    /// A key pair waiting for the peer's share (TLS 1.2's ECDHE).
    struct KeyExchange {
        private: PrivateKey,
        public: [u8; 32],
    }

    impl ActiveKeyExchange for KeyExchange {
        fn complete(self: Box<Self>, peer: &[u8]) -> Result<SharedSecret, Error> {
            agree(self.private, peer)
        }

        fn pub_key(&self) -> &[u8] {
            &self.public
        }

        fn group(&self) -> NamedGroup {
            NamedGroup::X25519
        }

        fn ffdhe_group(&self) -> Option<FfdheGroup<'static>> {
            None
        }
    }

    /// A fresh private key from the kernel's generator, and its public key.
    fn key_pair() -> Result<(PrivateKey, [u8; 32]), Error> {
        let private = PrivateKey::new_random().map_err(|_| GetRandomFailed)?;
        let public = private.public_key().as_bytes();
        Ok((private, public))
    }

    /// The shared secret with the peer's share, which must be 32 bytes and not a low-order
    /// point (a zero secret).
    fn agree(private: PrivateKey, peer: &[u8]) -> Result<SharedSecret, Error> {
        let peer = PublicKey::try_from_slice(peer).map_err(|_| PeerMisbehaved::InvalidKeyShare)?;
        let secret = private
            .diffie_hellman(&peer)
            .map_err(|_| PeerMisbehaved::InvalidKeyShare)?;
        Ok(SharedSecret::from(&secret.0[..]))
    }
}

/// Other architectures: `ring`'s X25519 only.
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
mod fast {
    use rustls::crypto::SupportedKxGroup;

    pub(super) fn x25519() -> Option<&'static dyn SupportedKxGroup> {
        None
    }
}

#[cfg(test)]
mod tests {
    use ring::agreement::{self, EphemeralPrivateKey, UnparsedPublicKey};
    use ring::rand::SystemRandom;
    use rustls::crypto::SupportedKxGroup;
    use rustls::{Error, NamedGroup, PeerMisbehaved};

    use super::{kx_groups, with_x25519};

    /// The group under test: ours where this CPU runs it, else `ring`'s (so the tests still
    /// check the agreement on a machine without it).
    fn x25519() -> &'static dyn SupportedKxGroup {
        *kx_groups()
            .iter()
            .find(|group| group.name() == NamedGroup::X25519)
            .expect("X25519 offered")
    }

    /// A `ring` key pair, as the client side.
    fn ring_pair() -> (EphemeralPrivateKey, Vec<u8>) {
        let rng = SystemRandom::new();
        let private = EphemeralPrivateKey::generate(&agreement::X25519, &rng).unwrap();
        let public = private.compute_public_key().unwrap().as_ref().to_vec();
        (private, public)
    }

    fn ring_secret(private: EphemeralPrivateKey, peer: &[u8]) -> Vec<u8> {
        let peer = UnparsedPublicKey::new(&agreement::X25519, peer);
        agreement::agree_ephemeral(private, &peer, <[u8]>::to_vec).unwrap()
    }

    /// `ring`'s groups in `ring`'s order, X25519 replaced by graviola's where it is built and
    /// this CPU runs it, and by nothing else.
    #[test]
    fn the_groups_keep_rings_order_and_replace_only_x25519() {
        let names = |groups: &[&dyn SupportedKxGroup]| {
            groups
                .iter()
                .map(|group| format!("{group:?}"))
                .collect::<Vec<_>>()
        };
        let ring = names(&rustls::crypto::ring::default_provider().kx_groups);
        assert_eq!(ring, ["X25519", "secp256r1", "secp384r1"]);
        assert_eq!(names(&with_x25519(None)), ring);
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        let graviola = graviola::util::is_cpu_supported();
        #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
        let graviola = false;
        let ours = names(&kx_groups());
        if graviola {
            assert_eq!(ours, ["X25519 (graviola)", "secp256r1", "secp384r1"]);
        } else {
            assert_eq!(ours, ring);
        }
    }

    /// The server side of TLS 1.3 agrees with a `ring` client on the secret, handshake after
    /// handshake, and sends a fresh share each time.
    #[test]
    fn agrees_with_ring_in_one_step() {
        let mut shares = Vec::new();
        for _ in 0..64 {
            let (client, client_share) = ring_pair();
            let done = x25519().start_and_complete(&client_share).unwrap();
            assert_eq!(done.group, NamedGroup::X25519);
            assert_eq!(done.pub_key.len(), 32);
            assert_eq!(
                done.secret.secret_bytes(),
                ring_secret(client, &done.pub_key)
            );
            shares.push(done.pub_key);
        }
        shares.sort();
        shares.dedup();
        assert_eq!(shares.len(), 64);
    }

    /// TLS 1.2's order: our share first, the peer's later.
    #[test]
    fn agrees_with_ring_in_two_steps() {
        for _ in 0..16 {
            let server = x25519().start().unwrap();
            assert_eq!(server.group(), NamedGroup::X25519);
            let server_share = server.pub_key().to_vec();
            let (client, client_share) = ring_pair();
            let secret = server.complete(&client_share).unwrap();
            assert_eq!(secret.secret_bytes(), ring_secret(client, &server_share));
        }
    }

    /// RFC 7748 section 5: the top bit of a peer's share is ignored, as `ring` ignores it.
    #[test]
    fn the_top_bit_of_the_peers_share_is_ignored() {
        let (client, client_share) = ring_pair();
        let mut marked = client_share.clone();
        marked[31] |= 0x80;
        let done = x25519().start_and_complete(&marked).unwrap();
        assert_eq!(
            done.secret.secret_bytes(),
            ring_secret(client, &done.pub_key)
        );
    }

    #[test]
    fn a_share_of_the_wrong_length_or_of_low_order_fails_the_handshake() {
        let invalid = Error::PeerMisbehaved(PeerMisbehaved::InvalidKeyShare);
        let (_, share) = ring_pair();
        // u = 0 (a point of order 2) and u = 1 (order 4): the clamped scalar is a multiple
        // of 8, so either makes the secret zero.
        let mut order_4 = [0u8; 32];
        order_4[0] = 1;
        for bad in [
            &share[..31],
            &[share.as_slice(), &[0]].concat(),
            &[],
            &[0; 32],
            &order_4,
        ] {
            let one_step = x25519().start_and_complete(bad).err();
            assert_eq!(one_step, Some(invalid.clone()), "{bad:?}");
            let two_steps = x25519().start().unwrap().complete(bad).err();
            assert_eq!(two_steps, Some(invalid.clone()), "{bad:?}");
        }
    }
}
