//! The little semver the release tool needs: versions, requirement matching (caret,
//! tilde, exact, comparison operators, wildcards), bumps.

use std::cmp::Ordering;
use std::fmt;

/// `major.minor.patch` (pre-release and build suffixes are kept as text, compared last).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    pub pre: String,
}

impl Version {
    /// Parses `1.2.3`, `1.2.3-rc.1`, `1.2.3+build`.
    pub fn parse(s: &str) -> Result<Version, String> {
        let s = s.trim();
        let core = s.split('+').next().unwrap_or(s);
        let (core, pre) = match core.split_once('-') {
            Some((c, p)) => (c, p.to_owned()),
            None => (core, String::new()),
        };
        let parts: Vec<&str> = core.split('.').collect();
        let [a, b, c] = parts.as_slice() else {
            return Err(format!("`{s}` is not a version (major.minor.patch)"));
        };
        let n = |p: &str| {
            p.parse::<u64>()
                .map_err(|_| format!("`{s}` is not a version"))
        };
        Ok(Version {
            major: n(a)?,
            minor: n(b)?,
            patch: n(c)?,
            pre,
        })
    }

    /// The next version at `level` (`major`, `minor`, `patch`).
    pub fn bump(&self, level: &str) -> Result<Version, String> {
        let (major, minor, patch) = match level {
            "major" => (self.major + 1, 0, 0),
            "minor" => (self.major, self.minor + 1, 0),
            "patch" => (self.major, self.minor, self.patch + 1),
            other => return Err(format!("bump level `{other}` is not major, minor or patch")),
        };
        Ok(Version {
            major,
            minor,
            patch,
            pre: String::new(),
        })
    }

    fn triple(&self) -> (u64, u64, u64) {
        (self.major, self.minor, self.patch)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if !self.pre.is_empty() {
            write!(f, "-{}", self.pre)?;
        }
        Ok(())
    }
}

fn cmp(a: &Version, b: &Version) -> Ordering {
    a.triple()
        .cmp(&b.triple())
        .then_with(|| match (a.pre.is_empty(), b.pre.is_empty()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => a.pre.cmp(&b.pre),
        })
}

/// A partial version in a requirement: `1`, `1.2`, `1.2.3`, with `*`/`x` wildcards.
fn partial(s: &str) -> Result<(u64, Option<u64>, Option<u64>, String), String> {
    let s = s.trim();
    let (core, pre) = match s.split_once('-') {
        Some((c, p)) => (c, p.to_owned()),
        None => (s, String::new()),
    };
    let mut it = core.split('.');
    let num = |p: Option<&str>| -> Result<Option<u64>, String> {
        match p {
            None | Some("*") | Some("x") | Some("X") => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| format!("`{s}` is not a version")),
        }
    };
    let major = num(it.next())?.ok_or_else(|| format!("`{s}` has no major version"))?;
    Ok((major, num(it.next())?, num(it.next())?, pre))
}

/// Whether `v` satisfies one comparator (`^1.2`, `~1.2.3`, `=1.2.3`, `>=1.0`, `1.2`, `*`).
fn matches_one(req: &str, v: &Version) -> Result<bool, String> {
    let req = req.trim();
    if req == "*" || req.is_empty() {
        return Ok(true);
    }
    let (op, rest) = ["^", "~", "=", ">=", "<=", ">", "<"]
        .iter()
        .find(|op| {
            req.starts_with(*op)
                && !(**op == ">" && req.starts_with(">="))
                && !(**op == "<" && req.starts_with("<="))
        })
        .map(|op| (*op, &req[op.len()..]))
        .unwrap_or(("^", req));
    let (major, minor, patch, pre) = partial(rest)?;
    let low = Version {
        major,
        minor: minor.unwrap_or(0),
        patch: patch.unwrap_or(0),
        pre,
    };
    let ge = |a: &Version, b: &Version| cmp(a, b) != Ordering::Less;
    Ok(match op {
        "=" => {
            v.major == major
                && minor.is_none_or(|m| v.minor == m)
                && patch.is_none_or(|p| v.patch == p)
        }
        ">=" => ge(v, &low),
        ">" => cmp(v, &low) == Ordering::Greater,
        "<=" => cmp(v, &low) != Ordering::Greater,
        "<" => cmp(v, &low) == Ordering::Less,
        "~" => ge(v, &low) && v.major == major && minor.is_none_or(|m| v.minor == m),
        _ => {
            // Caret: the left-most non-zero part may not change.
            ge(v, &low)
                && if major > 0 || minor.is_none() {
                    v.major == major
                } else if minor.unwrap_or(0) > 0 || patch.is_none() {
                    v.major == 0 && v.minor == minor.unwrap_or(0)
                } else {
                    v.major == 0 && v.minor == 0 && v.patch == patch.unwrap_or(0)
                }
        }
    })
}

/// Whether `version` satisfies the requirement `req` (comma-separated comparators).
pub fn matches(req: &str, version: &Version) -> Result<bool, String> {
    for part in req.split(',') {
        if !matches_one(part, version)? {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn requirements() {
        for (req, ver, ok) in [
            ("^0.1.0", "0.1.5", true),
            ("^0.1.0", "0.2.0", false),
            ("0.1.0", "0.1.0", true),
            ("^1.2", "1.9.0", true),
            ("^1.2", "2.0.0", false),
            ("^0.0.3", "0.0.4", false),
            ("~1.2.3", "1.2.9", true),
            ("~1.2.3", "1.3.0", false),
            ("=0.1.0", "0.1.1", false),
            (">=0.1, <0.3", "0.2.7", true),
            ("*", "9.9.9", true),
            ("^0.1.0", "0.1.0-rc.1", false),
        ] {
            assert_eq!(matches(req, &v(ver)).unwrap(), ok, "{req} {ver}");
        }
    }

    #[test]
    fn bumps() {
        assert_eq!(v("0.1.3").bump("patch").unwrap().to_string(), "0.1.4");
        assert_eq!(v("0.1.3").bump("minor").unwrap().to_string(), "0.2.0");
        assert_eq!(v("0.1.3").bump("major").unwrap().to_string(), "1.0.0");
        assert!(v("0.1.3").bump("huge").is_err());
        assert!(Version::parse("1.2").is_err());
    }
}
