//! The structure of Juhe error codes: system codes `1xxxx`, service codes
//! `2` + three-digit data id + two-digit code (e.g. `260204`: data 602, code 04).

use std::fmt;

/// What a Juhe `error_code` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JuheCode {
    /// `0`: success.
    Success,
    /// 系统级错误: platform-wide (key, IP, limits), e.g. `10012`.
    System(u32),
    /// 服务级错误: specific to one API (数据ID) with its own code.
    Service {
        /// 服务模块代码: the API's data id, e.g. 602.
        data_id: u16,
        /// 具体错误代码: the API-specific code, e.g. 4.
        code: u8,
    },
}

impl JuheCode {
    /// Classifies a code; `None` for anything that is not a Juhe code.
    pub fn parse(code: &str) -> Option<JuheCode> {
        let code = code.trim();
        if code == "0" {
            return Some(JuheCode::Success);
        }
        if !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        match (code.len(), code.as_bytes().first()) {
            (5, Some(b'1')) => code.parse().ok().map(JuheCode::System),
            (6, Some(b'2')) => Some(JuheCode::Service {
                data_id: code[1..4].parse().ok()?,
                code: code[4..6].parse().ok()?,
            }),
            _ => None,
        }
    }

    /// The structure of a provider error's code, when it came from Juhe.
    pub fn of_error(error: &cred_core::Error) -> Option<JuheCode> {
        error
            .as_provider()
            .filter(|p| p.site.provider == "juhe")
            .and_then(|p| JuheCode::parse(&p.code))
    }
}

impl fmt::Display for JuheCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JuheCode::Success => f.write_str("0"),
            JuheCode::System(c) => write!(f, "{c}"),
            JuheCode::Service { data_id, code } => write!(f, "2{data_id:03}{code:02}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_split_into_their_parts() {
        assert_eq!(JuheCode::parse("0"), Some(JuheCode::Success));
        assert_eq!(JuheCode::parse("10012"), Some(JuheCode::System(10012)));
        assert_eq!(
            JuheCode::parse("260204"),
            Some(JuheCode::Service {
                data_id: 602,
                code: 4
            })
        );
        assert_eq!(
            JuheCode::parse("200201"),
            Some(JuheCode::Service {
                data_id: 2,
                code: 1
            })
        );
        for bad in ["", "abc", "3602", "1234567", "20020x"] {
            assert_eq!(JuheCode::parse(bad), None, "{bad}");
        }
        assert_eq!(
            JuheCode::Service {
                data_id: 2,
                code: 1
            }
            .to_string(),
            "200201"
        );
    }
}
