//! Hash helpers used by signers.

use sha2::{Digest, Sha256};

/// Lower-case hex of `bytes`.
pub fn hex_lower(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    out
}

/// SHA-256 of `data`, as 64 lower-case hex characters.
pub fn sha256_hex(data: &[u8]) -> String {
    hex_lower(&Sha256::digest(data))
}

/// SHA-256 of the concatenation of `parts`, as lower-case hex (no intermediate string).
pub fn sha256_hex_concat(parts: &[&[u8]]) -> String {
    let mut ctx = Sha256::new();
    for p in parts {
        ctx.update(p);
    }
    hex_lower(&ctx.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_known_answers() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(sha256_hex_concat(&[b"a", b"bc"]), sha256_hex(b"abc"));
    }
}
