//! `cred audit verify|head|find|report LEDGER`: reading the audit ledger. Nothing here
//! writes to it; nothing printed holds a personal value (subjects are keyed HMACs).

use std::path::Path;
use std::process::ExitCode;

use cred_ledger::{GroupBy, Record, ReportRow, Subject, SubjectKind};
use serde_json::json;
use unicode_width::UnicodeWidthStr;

use crate::cli::{AuditCommand, AuditFindArgs, AuditFormat, AuditGroup, AuditReportArgs};
use crate::output::{EXIT_AUTH, EXIT_OK, EXIT_PROVIDER, EXIT_USAGE, err, out};

/// Runs `cred audit ...`; returns the exit code.
pub fn run(command: &AuditCommand, json_mode: bool) -> ExitCode {
    let result = match command {
        AuditCommand::Verify {
            ledger,
            against,
            key,
        } => verify(ledger, key.as_deref(), against.as_deref(), json_mode),
        AuditCommand::Head { ledger, key } => head(ledger, key.as_deref(), json_mode),
        AuditCommand::Find(args) => find(args, json_mode),
        AuditCommand::Report(args) => report(args, json_mode),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err((code, message)) => {
            if json_mode {
                out(&format!(
                    "{}\n",
                    json!({"error": {"kind": if code == EXIT_USAGE { "invalid-input" } else { "config" }, "message": message}})
                ));
            } else {
                err(&format!("error: {}\n", message.replace(['\n', '\r'], " ")));
            }
            ExitCode::from(code)
        }
    }
}

type Outcome = Result<u8, (u8, String)>;

fn unreadable(e: cred_ledger::Error) -> (u8, String) {
    (EXIT_AUTH, e.to_string())
}

fn verify(ledger: &Path, key: Option<&Path>, against: Option<&Path>, json_mode: bool) -> Outcome {
    let v = cred_ledger::verify(ledger, key).map_err(unreadable)?;
    let kept = match against {
        None => None,
        Some(file) => {
            let text = std::fs::read_to_string(file).map_err(|e| {
                (
                    EXIT_AUTH,
                    format!("cannot read the kept head {}: {e}", file.display()),
                )
            })?;
            let head = cred_ledger::Head::parse(&text).ok_or_else(|| {
                (
                    EXIT_USAGE,
                    format!(
                        "{} is not a ledger head (`cred audit head` prints one)",
                        file.display()
                    ),
                )
            })?;
            Some((
                head.seq,
                cred_ledger::verify_against(ledger, key, &head).map_err(unreadable)?,
            ))
        }
    };
    let problem = v
        .problem
        .clone()
        .or_else(|| kept.as_ref().and_then(|(_, p)| p.clone()));
    if json_mode {
        out(&format!(
            "{}\n",
            json!({
                "verified": problem.is_none(),
                "records": v.verified,
                "last_seq": v.last_seq,
                "head_seq": v.head_seq,
                "after_head": v.after_head,
                "against_seq": kept.as_ref().map(|(seq, _)| *seq),
                "problem": problem,
            })
        ));
    } else {
        match &problem {
            None => {
                out(&format!(
                    "verified: {} records, chain and head whole{}{}\n",
                    v.verified,
                    if v.after_head > 0 {
                        format!(
                            " ({} after the head: written by a process that stopped before updating it)",
                            v.after_head
                        )
                    } else {
                        String::new()
                    },
                    match &kept {
                        Some((seq, _)) => format!("; record {seq} matches the kept head"),
                        None => String::new(),
                    }
                ));
            }
            Some(p) => out(&format!("NOT VERIFIED at record {}: {}\n", p.seq, p.what)),
        }
    }
    Ok(if problem.is_none() {
        EXIT_OK
    } else {
        EXIT_PROVIDER
    })
}

fn head(ledger: &Path, key: Option<&Path>, json_mode: bool) -> Outcome {
    let head = cred_ledger::current_head(ledger, key)
        .map_err(unreadable)?
        .ok_or_else(|| {
            (
                EXIT_AUTH,
                format!(
                    "the ledger {} has no head yet (no record written)",
                    ledger.display()
                ),
            )
        })?;
    if json_mode {
        out(&format!(
            "{}\n",
            json!({"ledger": head.ledger_id, "seq": head.seq, "mac": head.mac, "tag": head.tag, "text": head.text()})
        ));
    } else {
        out(&head.text());
    }
    Ok(EXIT_OK)
}

fn format_of(requested: Option<AuditFormat>, json_mode: bool) -> AuditFormat {
    requested.unwrap_or(if json_mode {
        AuditFormat::Json
    } else {
        AuditFormat::Table
    })
}

fn find(args: &AuditFindArgs, json_mode: bool) -> Outcome {
    let (kind, value) = [
        (SubjectKind::IdNumber, &args.idcard),
        (SubjectKind::Name, &args.name),
        (SubjectKind::CertificateNo, &args.certificate_no),
        (SubjectKind::LicenceId, &args.licence_id),
        (SubjectKind::CreditCode, &args.credit_code),
        (SubjectKind::CompanyName, &args.company_name),
    ]
    .into_iter()
    .find_map(|(kind, value)| value.as_deref().map(|v| (kind, v)))
    .ok_or_else(|| (EXIT_USAGE, "give one of --idcard, --name, --certificate-no, --licence-id, --credit-code, --company-name".to_owned()))?;
    if value.trim().is_empty() {
        return Err((EXIT_USAGE, format!("--{} must not be blank", flag_of(kind))));
    }
    let records = cred_ledger::find(
        &args.ledger,
        args.key.as_deref(),
        &Subject::new(kind, value),
    )
    .map_err(unreadable)?;
    let format = format_of(args.format, json_mode);
    print_records(&records, format);
    if format == AuditFormat::Table {
        err(&format!(
            "{} calls about this {}\n",
            records.len(),
            flag_of(kind).replace('-', " ")
        ));
    }
    Ok(EXIT_OK)
}

fn flag_of(kind: SubjectKind) -> &'static str {
    match kind {
        SubjectKind::IdNumber => "idcard",
        other => other.as_str(),
    }
}

fn print_records(records: &[Record], format: AuditFormat) {
    match format {
        AuditFormat::Json => out(&format!(
            "{}\n",
            serde_json::to_string(&json!({ "records": records })).unwrap_or_default()
        )),
        AuditFormat::Csv | AuditFormat::Table => {
            let header = [
                "seq",
                "time",
                "caller",
                "purpose",
                "provider",
                "operation",
                "outcome",
                "error_kind",
                "charged",
                "request_id",
                "latency_ms",
            ];
            let rows: Vec<Vec<String>> = records
                .iter()
                .map(|r| {
                    vec![
                        r.seq.to_string(),
                        time_text(r.at_ms),
                        r.caller.clone(),
                        r.purpose.clone().unwrap_or_default(),
                        r.provider.clone(),
                        r.operation.clone(),
                        r.outcome.clone(),
                        r.error_kind.clone().unwrap_or_default(),
                        r.charged.clone(),
                        r.request_id.clone().unwrap_or_default(),
                        format!("{:.1}", r.latency_us as f64 / 1000.0),
                    ]
                })
                .collect();
            print_rows(&header, &rows, format);
        }
    }
}

fn report(args: &AuditReportArgs, json_mode: bool) -> Outcome {
    let since = match &args.since {
        Some(day) => day_start_ms(day).ok_or_else(|| {
            (
                EXIT_USAGE,
                format!("--since `{day}` is not a date (YYYY-MM-DD)"),
            )
        })?,
        None => i64::MIN,
    };
    let until = match &args.until {
        // Inclusive: up to the start of the next day.
        Some(day) => day_start_ms(day).map(|ms| ms + 86_400_000).ok_or_else(|| {
            (
                EXIT_USAGE,
                format!("--until `{day}` is not a date (YYYY-MM-DD)"),
            )
        })?,
        None => i64::MAX,
    };
    if since >= until {
        return Err((EXIT_USAGE, "--since is after --until".to_owned()));
    }
    let by = match args.by {
        AuditGroup::Caller => GroupBy::Caller,
        AuditGroup::Operation => GroupBy::Operation,
        AuditGroup::Purpose => GroupBy::Purpose,
    };
    let rows = cred_ledger::report(&args.ledger, args.key.as_deref(), since, until, by)
        .map_err(unreadable)?;
    let label = match args.by {
        AuditGroup::Caller => "caller",
        AuditGroup::Operation => "operation",
        AuditGroup::Purpose => "purpose",
    };
    match format_of(args.format, json_mode) {
        AuditFormat::Json => out(&format!(
            "{}\n",
            json!({
                "since": args.since,
                "until": args.until,
                "by": label,
                "groups": rows,
                "total": total(&rows),
            })
        )),
        format => {
            let header = [
                label,
                "calls",
                "charged",
                "charge_unknown",
                "found",
                "not_found",
                "errors",
            ];
            let mut lines: Vec<Vec<String>> = rows.iter().map(report_line).collect();
            if format == AuditFormat::Table {
                let mut sum = report_line(&total(&rows));
                sum[0] = "total".to_owned();
                lines.push(sum);
            }
            print_rows(&header, &lines, format);
        }
    }
    Ok(EXIT_OK)
}

fn total(rows: &[ReportRow]) -> ReportRow {
    let mut t = ReportRow::default();
    for r in rows {
        t.calls += r.calls;
        t.charged += r.charged;
        t.charge_unknown += r.charge_unknown;
        t.found += r.found;
        t.not_found += r.not_found;
        t.errors += r.errors;
    }
    t
}

fn report_line(r: &ReportRow) -> Vec<String> {
    vec![
        r.group.clone(),
        r.calls.to_string(),
        r.charged.to_string(),
        r.charge_unknown.to_string(),
        r.found.to_string(),
        r.not_found.to_string(),
        r.errors.to_string(),
    ]
}

fn print_rows(header: &[&str], rows: &[Vec<String>], format: AuditFormat) {
    let mut text = String::new();
    if format == AuditFormat::Csv {
        let line = |cells: &mut dyn Iterator<Item = &str>| {
            cells.map(csv_cell).collect::<Vec<_>>().join(",") + "\n"
        };
        text.push_str(&line(&mut header.iter().copied()));
        for row in rows {
            text.push_str(&line(&mut row.iter().map(String::as_str)));
        }
    } else {
        let mut widths: Vec<usize> = header.iter().map(|h| h.width()).collect();
        for row in rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.width());
            }
        }
        let line = |cells: &mut dyn Iterator<Item = &str>| {
            let mut l = String::new();
            for (cell, w) in cells.zip(&widths) {
                l.push_str(cell);
                l.push_str(&" ".repeat(w - cell.width() + 2));
            }
            l.trim_end().to_owned() + "\n"
        };
        text.push_str(&line(&mut header.iter().copied()));
        for row in rows {
            text.push_str(&line(&mut row.iter().map(String::as_str)));
        }
    }
    out(&text);
}

/// A CSV cell: quoted when needed, and a leading `=`, `+`, `-` or `@` defused (a
/// spreadsheet would run it as a formula).
fn csv_cell(value: &str) -> String {
    let guarded = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// Milliseconds since the epoch at 00:00 China Standard Time (UTC+8) of `day`.
fn day_start_ms(day: &str) -> Option<i64> {
    let bytes = day.trim().as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let date = cred_core::date::Date::parse(day.trim())?;
    let days = days_from_civil(
        i64::from(date.year()),
        i64::from(date.month()),
        i64::from(date.day()),
    );
    Some(days * 86_400_000 - 8 * 3_600_000)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DD HH:MM:SS` in China Standard Time.
fn time_text(at_ms: i64) -> String {
    let secs = at_ms.div_euclid(1000) + 8 * 3600;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Inverse of days_from_civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_times_in_china_standard_time() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        // 2026-12-06 00:00 +08:00 is 2026-12-05 16:00 UTC.
        assert_eq!(
            day_start_ms("2026-12-06"),
            Some(1_796_515_200_000 - 8 * 3_600_000)
        );
        assert_eq!(
            time_text(1_796_515_200_000 - 8 * 3_600_000),
            "2026-12-06 00:00:00"
        );
        assert_eq!(time_text(0), "1970-01-01 08:00:00");
        assert_eq!(day_start_ms("2026-02-30"), None);
        assert_eq!(day_start_ms("20261206"), None);
    }

    #[test]
    fn csv_cells_are_quoted_and_formulas_defused() {
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("=cmd()"), "'=cmd()");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("plain"), "plain");
    }
}
