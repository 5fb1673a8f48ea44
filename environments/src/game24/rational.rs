//! Exact rationals over `i64`, with every operation checked: overflow and division by zero are
//! errors, never panics or wrong answers.

use std::cmp::Ordering;
use std::fmt;

/// A reduced fraction `num/den` with `den > 0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rational {
    num: i64,
    den: i64,
}

/// Why an exact computation has no result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithError {
    DivisionByZero,
    Overflow,
}

impl fmt::Display for ArithError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ArithError::DivisionByZero => "division by zero",
            ArithError::Overflow => "arithmetic overflow (a value beyond 64-bit fractions)",
        })
    }
}

impl Rational {
    pub const ZERO: Rational = Rational { num: 0, den: 1 };

    /// The integer `n`.
    pub const fn int(n: i64) -> Self {
        Rational { num: n, den: 1 }
    }

    /// `num/den`, reduced; computed in `i128` so that only a result outside `i64` overflows.
    fn ratio(num: i128, den: i128) -> Result<Self, ArithError> {
        if den == 0 {
            return Err(ArithError::DivisionByZero);
        }
        let g = gcd(num.unsigned_abs(), den.unsigned_abs()).max(1) as i128;
        let (mut num, mut den) = (num / g, den / g);
        if den < 0 {
            (num, den) = (-num, -den);
        }
        match (i64::try_from(num), i64::try_from(den)) {
            (Ok(num), Ok(den)) => Ok(Rational { num, den }),
            _ => Err(ArithError::Overflow),
        }
    }

    pub fn num(self) -> i64 {
        self.num
    }

    pub fn den(self) -> i64 {
        self.den
    }

    pub fn is_integer(self) -> bool {
        self.den == 1
    }

    pub fn checked_add(self, o: Self) -> Result<Self, ArithError> {
        let (a, b, c, d) = self.wide(o);
        Self::ratio(a * d + c * b, b * d)
    }

    pub fn checked_sub(self, o: Self) -> Result<Self, ArithError> {
        let (a, b, c, d) = self.wide(o);
        Self::ratio(a * d - c * b, b * d)
    }

    pub fn checked_mul(self, o: Self) -> Result<Self, ArithError> {
        let (a, b, c, d) = self.wide(o);
        Self::ratio(a * c, b * d)
    }

    pub fn checked_div(self, o: Self) -> Result<Self, ArithError> {
        let (a, b, c, d) = self.wide(o);
        Self::ratio(a * d, b * c)
    }

    fn wide(self, o: Self) -> (i128, i128, i128, i128) {
        (self.num.into(), self.den.into(), o.num.into(), o.den.into())
    }
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl Ord for Rational {
    fn cmp(&self, o: &Self) -> Ordering {
        (i128::from(self.num) * i128::from(o.den)).cmp(&(i128::from(o.num) * i128::from(self.den)))
    }
}

impl PartialOrd for Rational {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// `8`, `-3`, `8/3`.
impl fmt::Display for Rational {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.den == 1 {
            write!(f, "{}", self.num)
        } else {
            write!(f, "{}/{}", self.num, self.den)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_reduce_and_print() {
        let r = Rational::int(8).checked_div(Rational::int(6)).unwrap();
        assert_eq!((r.num(), r.den()), (4, 3));
        assert_eq!(r.to_string(), "4/3");
        assert_eq!(Rational::int(3).checked_sub(r).unwrap().to_string(), "5/3");
        assert_eq!(Rational::int(1).checked_div(Rational::int(-2)).unwrap().to_string(), "-1/2");
        assert_eq!(r.checked_mul(Rational::int(3)).unwrap(), Rational::int(4));
        assert!(Rational::int(1).checked_div(Rational::int(3)).unwrap() < Rational::int(1));
    }

    #[test]
    fn overflow_and_division_by_zero_are_errors() {
        assert_eq!(Rational::int(1).checked_div(Rational::ZERO), Err(ArithError::DivisionByZero));
        let big = Rational::int(i64::MAX);
        assert_eq!(big.checked_mul(big), Err(ArithError::Overflow));
        assert_eq!(big.checked_add(Rational::int(1)), Err(ArithError::Overflow));
        assert_eq!(Rational::int(i64::MIN).checked_div(Rational::int(-1)), Err(ArithError::Overflow));
        assert_eq!(big.checked_sub(big), Ok(Rational::ZERO));
    }
}
