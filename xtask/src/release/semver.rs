//! Versions and requirements as Cargo reads them, through the `semver` crate (Cargo's
//! own): parsing, ordering (pre-releases by identifier), requirement matching, the three
//! bump levels and what counts as a breaking change.

use std::fmt;
use std::str::FromStr;

pub use semver::Version;
use semver::{Comparator, Op, VersionReq};

/// A bump level: `major`, `minor` or `patch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// `1.2.3` -> `2.0.0`.
    Major,
    /// `1.2.3` -> `1.3.0`.
    Minor,
    /// `1.2.3` -> `1.2.4`.
    Patch,
}

impl FromStr for Level {
    type Err = String;

    fn from_str(s: &str) -> Result<Level, String> {
        match s {
            "major" => Ok(Level::Major),
            "minor" => Ok(Level::Minor),
            "patch" => Ok(Level::Patch),
            other => Err(format!("bump level `{other}` is not major, minor or patch")),
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Major => "major",
            Level::Minor => "minor",
            Level::Patch => "patch",
        })
    }
}

/// Parses a version (`1.2.3`, `1.2.3-rc.1`, `1.2.3+build`), naming it when it is not one.
pub fn parse(s: &str) -> Result<Version, String> {
    Version::parse(s.trim()).map_err(|e| format!("`{s}` is not a version: {e}"))
}

/// The version after `v` at `level`. A pre-release is completed when the level allows:
/// `1.0.0-rc.2` goes to `1.0.0` at any level, `1.2.1-rc.1` to `1.2.1` at `patch` but
/// `1.3.0` at `minor`. Build metadata is dropped.
pub fn bump(v: &Version, level: Level) -> Version {
    let pre = !v.pre.is_empty();
    let (major, minor, patch) = match level {
        Level::Major if pre && v.minor == 0 && v.patch == 0 => (v.major, 0, 0),
        Level::Major => (v.major + 1, 0, 0),
        Level::Minor if pre && v.patch == 0 => (v.major, v.minor, 0),
        Level::Minor => (v.major, v.minor + 1, 0),
        Level::Patch if pre => (v.major, v.minor, v.patch),
        Level::Patch => (v.major, v.minor, v.patch + 1),
    };
    Version::new(major, minor, patch)
}

/// The smallest release after `v` that is breaking for users of `v`: the left-most
/// non-zero part goes up (`1.4.2` -> `2.0.0`, `0.3.1` -> `0.4.0`, `0.0.7` -> `0.0.8`).
pub fn next_breaking(v: &Version) -> Version {
    if v.major > 0 {
        Version::new(v.major + 1, 0, 0)
    } else if v.minor > 0 {
        Version::new(0, v.minor + 1, 0)
    } else {
        Version::new(0, 0, v.patch + 1)
    }
}

/// Whether `new` is a breaking release after `old`: a user's `^old` requirement does not
/// accept it (`1.x` -> `2.0`; `0.1` -> `0.2`; for `0.0.x`, every release).
pub fn is_breaking(old: &Version, new: &Version) -> bool {
    let caret = VersionReq {
        comparators: vec![Comparator {
            op: Op::Caret,
            major: old.major,
            minor: Some(old.minor),
            patch: Some(old.patch),
            pre: old.pre.clone(),
        }],
    };
    !caret.matches(new)
}

/// The version's caret series, as users name it: `0.2` for `0.2.0`, `0.0.3` for `0.0.3`,
/// `2.0` for `2.0.0`.
pub fn series(v: &Version) -> String {
    if v.major == 0 && v.minor == 0 {
        format!("0.0.{}", v.patch)
    } else {
        format!("{}.{}", v.major, v.minor)
    }
}

/// Whether `version` satisfies the Cargo requirement `req` (`0.1.0`, `^1.2`, `~1.2.3`,
/// `=1.0.0`, `>=0.1, <0.3`, `*`).
pub fn matches(req: &str, version: &Version) -> Result<bool, String> {
    let req =
        VersionReq::parse(req).map_err(|e| format!("`{req}` is not a version requirement: {e}"))?;
    Ok(req.matches(version))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        parse(s).unwrap()
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
            // Cargo's rule: a pre-release matches only a requirement naming its triple.
            ("^1.0.0-rc.9", "1.0.0-rc.10", true),
            (">=1.0.0-rc.10", "1.0.0-rc.9", false),
        ] {
            assert_eq!(matches(req, &v(ver)).unwrap(), ok, "{req} {ver}");
        }
        assert!(matches("not a req", &v("1.0.0")).is_err());
    }

    /// The hand-written version compared pre-release tags as text, so `rc.10` sorted
    /// before `rc.9`; semver orders numeric identifiers as numbers.
    #[test]
    fn pre_releases_order_by_identifier_not_by_text() {
        assert!(v("1.0.0-rc.10") > v("1.0.0-rc.9"));
        assert!(v("1.0.0-rc.9") < v("1.0.0-rc.10"));
        assert!(v("1.0.0-alpha") < v("1.0.0-alpha.1"));
        assert!(v("1.0.0-beta.11") < v("1.0.0-rc.1"));
        assert!(v("1.0.0-rc.1") < v("1.0.0"));
        let mut tags = [v("0.2.0-rc.10"), v("0.2.0-rc.9"), v("0.2.0-rc.2")];
        tags.sort();
        assert_eq!(tags.last().unwrap().to_string(), "0.2.0-rc.10");
    }

    #[test]
    fn bumps() {
        let b = |s: &str, l: &str| bump(&v(s), l.parse().unwrap()).to_string();
        assert_eq!(b("0.1.3", "patch"), "0.1.4");
        assert_eq!(b("0.1.3", "minor"), "0.2.0");
        assert_eq!(b("0.1.3", "major"), "1.0.0");
        assert_eq!(b("1.0.0-rc.2", "major"), "1.0.0");
        assert_eq!(b("1.0.0-rc.2", "patch"), "1.0.0");
        assert_eq!(b("1.2.1-rc.1", "patch"), "1.2.1");
        assert_eq!(b("1.2.1-rc.1", "minor"), "1.3.0");
        assert_eq!(b("1.2.3+build.5", "patch"), "1.2.4");
        assert!("huge".parse::<Level>().is_err());
        assert!(parse("1.2").is_err());
    }

    #[test]
    fn breaking_is_what_a_caret_requirement_refuses() {
        for (old, new, breaking) in [
            ("0.1.0", "0.1.1", false),
            ("0.1.0", "0.2.0", true),
            ("0.1.9", "1.0.0", true),
            ("0.0.1", "0.0.2", true),
            ("1.2.3", "1.3.0", false),
            ("1.2.3", "2.0.0", true),
            ("1.0.0-rc.1", "1.0.0", false),
        ] {
            assert_eq!(is_breaking(&v(old), &v(new)), breaking, "{old} -> {new}");
        }
        for old in ["0.0.7", "0.3.1", "1.4.2", "2.0.0-rc.1"] {
            let next = next_breaking(&v(old));
            assert!(is_breaking(&v(old), &next), "{old} -> {next}");
        }
        assert_eq!(series(&v("0.2.0")), "0.2");
        assert_eq!(series(&v("0.0.3")), "0.0.3");
        assert_eq!(series(&v("2.0.0")), "2.0");
    }
}
