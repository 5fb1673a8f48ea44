//! Exact arithmetic on decimal digit strings: the ground truth for operands of any length.
//!
//! A number is a slice of digit values `0..=9`, most significant first, without leading zeros
//! (zero is `[0]`). Schoolbook algorithms: operands are at most a few dozen digits.

/// `a + b`.
pub fn add(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(a.len().max(b.len()) + 1);
    let (mut i, mut j, mut carry) = (a.len(), b.len(), 0u8);
    while i > 0 || j > 0 || carry > 0 {
        let mut s = carry;
        if i > 0 {
            i -= 1;
            s += a[i];
        }
        if j > 0 {
            j -= 1;
            s += b[j];
        }
        out.push(s % 10);
        carry = s / 10;
    }
    finish(out)
}

/// `a * b`.
pub fn mul(a: &[u8], b: &[u8]) -> Vec<u8> {
    // Column sums, least significant first: at most 9 * 9 * len + carry per column, far from
    // overflowing u32 for any operand length this crate accepts.
    let mut cols = vec![0u32; a.len() + b.len()];
    for (i, &x) in a.iter().rev().enumerate() {
        for (j, &y) in b.iter().rev().enumerate() {
            cols[i + j] += u32::from(x) * u32::from(y);
        }
    }
    let mut out = Vec::with_capacity(cols.len());
    let mut carry = 0u32;
    for c in cols {
        let s = c + carry;
        out.push((s % 10) as u8);
        carry = s / 10;
    }
    while carry > 0 {
        out.push((carry % 10) as u8);
        carry /= 10;
    }
    finish(out)
}

/// Reverses least-significant-first digits and strips leading zeros.
fn finish(mut lsd_first: Vec<u8>) -> Vec<u8> {
    while lsd_first.len() > 1 && lsd_first.last() == Some(&0) {
        lsd_first.pop();
    }
    if lsd_first.is_empty() {
        lsd_first.push(0);
    }
    lsd_first.reverse();
    lsd_first
}

/// The digits of a decimal string of ASCII digits (leading zeros kept), or `None`.
pub fn digits(text: &str) -> Option<Vec<u8>> {
    if text.is_empty() || !text.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some(text.bytes().map(|c| c - b'0').collect())
}

/// The decimal text of digits.
pub fn text(digits: &[u8]) -> String {
    digits.iter().map(|&d| char::from(b'0' + d)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn n(x: u128) -> Vec<u8> {
        digits(&x.to_string()).unwrap()
    }

    #[test]
    fn small_cases_and_zero() {
        assert_eq!(text(&add(&n(347), &n(85))), "432");
        assert_eq!(text(&mul(&n(12), &n(34))), "408");
        assert_eq!(text(&add(&n(0), &n(0))), "0");
        assert_eq!(text(&mul(&n(0), &n(987))), "0");
        assert_eq!(text(&add(&n(999), &n(1))), "1000");
    }

    #[test]
    fn twenty_digit_products_are_exact() {
        let a = digits("99999999999999999999").unwrap();
        assert_eq!(text(&mul(&a, &a)), "9999999999999999999800000000000000000001");
        assert_eq!(text(&add(&a, &a)), "199999999999999999998");
    }

    proptest! {
        #[test]
        fn agrees_with_u128(a in 0u128..(1 << 62), b in 0u128..(1 << 62)) {
            prop_assert_eq!(text(&add(&n(a), &n(b))), (a + b).to_string());
            prop_assert_eq!(text(&mul(&n(a), &n(b))), (a * b).to_string());
        }
    }
}
