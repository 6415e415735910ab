//! One input row: its number and its named values, with the header mapping applied.

use std::collections::HashMap;

/// A data row of the input. Values are trimmed; empty cells count as absent.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Row {
    /// 1-based, counting data rows only (the header is not a row).
    pub number: u64,
    fields: Vec<(String, String)>,
    /// Columns whose spreadsheet cell held a number too long for Excel to keep exactly
    /// (more than 15 digits): their value is probably not what was typed.
    pub imprecise: Vec<String>,
    /// Columns this row gives more than once (two JSON keys for one column): which value
    /// was meant cannot be told, so a row giving an operation's column twice is refused.
    pub duplicated: Vec<String>,
}

impl std::fmt::Debug for Row {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Values are personal data: names only.
        let columns: Vec<&str> = self.fields.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("Row")
            .field("number", &self.number)
            .field("columns", &columns)
            .finish()
    }
}

impl Row {
    /// A row from `(column, value)` pairs (columns already mapped).
    pub fn new(number: u64, fields: Vec<(String, String)>) -> Self {
        Self {
            number,
            duplicated: duplicates(&fields),
            fields,
            imprecise: Vec::new(),
        }
    }

    /// The value of `column`, trimmed; `None` when absent or empty.
    pub fn get(&self, column: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == column)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// The columns and values, in input order.
    pub fn fields(&self) -> &[(String, String)] {
        &self.fields
    }

    /// Whether every value is empty (a blank line or row).
    pub fn is_blank(&self) -> bool {
        self.fields.iter().all(|(_, v)| v.trim().is_empty())
    }
}

/// The non-empty column names given more than once, each once, in order.
pub(crate) fn duplicates(fields: &[(String, String)]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if fields.len() <= 32 {
        for (i, (k, _)) in fields.iter().enumerate() {
            if !k.is_empty() && fields[..i].iter().any(|(e, _)| e == k) && !out.contains(k) {
                out.push(k.clone());
            }
        }
    } else {
        let mut seen = std::collections::HashSet::new();
        for (k, _) in fields {
            if !k.is_empty() && !seen.insert(k.as_str()) && !out.contains(k) {
                out.push(k.clone());
            }
        }
    }
    out
}

/// What the input gave for one data row: the row, or why it could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RowRead {
    /// A readable row.
    Row(Row),
    /// A row that cannot be read (a malformed CSV record, a JSON line that is not an
    /// object): reported as invalid, never sent.
    Unreadable {
        /// Its number.
        number: u64,
        /// Why (never quoting the row).
        reason: String,
    },
}

impl RowRead {
    /// The row number.
    pub fn number(&self) -> u64 {
        match self {
            RowRead::Row(r) => r.number,
            RowRead::Unreadable { number, .. } => *number,
        }
    }
}

/// How input headers become column names: `--map 姓名=name`, and for every header a
/// normal form (trimmed, lower case, `_` as `-`), so `ID_Card` matches `idcard`'s
/// neighbour `id-card` only if mapped, but `Certificate_No` matches `certificate-no`.
#[derive(Debug, Clone, Default)]
pub struct ColumnMap {
    map: HashMap<String, String>,
}

impl ColumnMap {
    /// No mapping beyond the normal form.
    pub fn new() -> Self {
        Self::default()
    }

    /// Maps the header `from` to the column `to`.
    pub fn map(mut self, from: &str, to: &str) -> Self {
        self.map.insert(normal(from), normal(to));
        self
    }

    /// Parses `HEADER=column` (`姓名=name`).
    pub fn parse_pair(pair: &str) -> Result<(String, String), String> {
        match pair.split_once('=') {
            Some((from, to)) if !from.trim().is_empty() && !to.trim().is_empty() => {
                Ok((from.trim().to_owned(), to.trim().to_owned()))
            }
            _ => Err(format!(
                "`{pair}` is not HEADER=column (for example 姓名=name)"
            )),
        }
    }

    /// The column a header stands for.
    pub fn column(&self, header: &str) -> String {
        let header = normal(header);
        self.map.get(&header).cloned().unwrap_or(header)
    }
}

/// Trimmed, BOM-less, lower case, `_` and spaces as `-`.
fn normal(header: &str) -> String {
    header
        .trim()
        .trim_start_matches('\u{feff}')
        .trim()
        .to_lowercase()
        .replace(['_', ' '], "-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_normalised_and_mapped() {
        let map = ColumnMap::new()
            .map("姓名", "name")
            .map("身份证号", "idcard");
        assert_eq!(map.column("姓名"), "name");
        assert_eq!(map.column(" 身份证号 "), "idcard");
        assert_eq!(map.column("Certificate_No"), "certificate-no");
        assert_eq!(map.column("\u{feff}name"), "name");
        assert_eq!(map.column("other"), "other");
        assert!(ColumnMap::parse_pair("a=b").is_ok());
        assert!(ColumnMap::parse_pair("=b").is_err());
        assert!(ColumnMap::parse_pair("ab").is_err());
    }

    #[test]
    fn values_are_trimmed_and_empty_is_absent() {
        let row = Row::new(
            1,
            vec![
                ("name".into(), " 王小明 ".into()),
                ("idcard".into(), "  ".into()),
            ],
        );
        assert_eq!(row.get("name"), Some("王小明"));
        assert_eq!(row.get("idcard"), None);
        assert_eq!(row.get("missing"), None);
        assert!(!row.is_blank());
        assert!(!format!("{row:?}").contains("王小明"));
    }
}
