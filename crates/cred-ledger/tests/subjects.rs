//! Whom a provider request is about, as the generated `subjects` say and the ledger
//! records them: found again by each identifier, with the right kind.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use cred_core::Charged;
use cred_ledger::{Entry, Ledger, LedgerOptions, Outcome, Subject, SubjectKind, find};

#[test]
fn requests_of_every_provider_name_their_subjects() {
    let dir = std::env::temp_dir().join(format!("cred-ledger-subjects-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("a.ledger");
    let ledger = Ledger::open(&path, LedgerOptions::default()).unwrap();
    let call = |entry: Entry| ledger.record(entry).wait().unwrap();
    let entry = || Entry::new("cli:t", "p", "op", Outcome::Found, Charged::Yes);
    call(
        entry().about(
            &jumdata_api::CredentialQuery::new("王小明", "321083197812162119")
                .certificate_no("1370005448"),
        ),
    );
    call(entry().about(&juhe_api::ConLicByName::new("91110000802100433B")));
    call(entry().about(&juhe_api::ConLicByName::new("河南省建筑科学研究院有限公司")));
    call(entry().about(&zz_license_api::ShareQueryCertInfo::new(
        "1.2.156.3005.2.11100000000013127D.11370400MB2856291X.C0000001.001.N",
    )));
    drop(ledger);
    let seqs = |kind, value: &str| -> Vec<i64> {
        find(&path, None, &Subject::new(kind, value))
            .unwrap()
            .iter()
            .map(|r| r.seq)
            .collect()
    };
    assert_eq!(seqs(SubjectKind::Name, "王小明"), vec![1]);
    assert_eq!(seqs(SubjectKind::IdNumber, "321083197812162119"), vec![1]);
    assert_eq!(seqs(SubjectKind::CertificateNo, "1370005448"), vec![1]);
    assert_eq!(seqs(SubjectKind::CreditCode, "91110000802100433b"), vec![2]);
    assert_eq!(
        seqs(SubjectKind::CompanyName, "河南省建筑科学研究院有限公司"),
        vec![3]
    );
    assert_eq!(
        seqs(
            SubjectKind::LicenceId,
            "1.2.156.3005.2.11100000000013127D.11370400MB2856291X.C0000001.001.N"
        ),
        vec![4]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
