//! The engine as a service embeds it: an `Operation` over the Jumdata SDK, a CSV input,
//! a journal, against the in-process sandbox: plan, run, resume, output.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::sync::Arc;

use async_trait::async_trait;
use cred_batch::output::{self, OutputFormat};
use cred_batch::{Batch, Destination, Input, Journal, NoProgress, Operation, Row, Settings, Stop};
use cred_core::{Answer, Error};
use cred_sandbox::Sandbox;
use cred_sandbox::credentials::{JUMDATA_APP_ID, JUMDATA_APP_SECRET};
use jumdata_api::{Client, CredentialQuery, CredentialQueryResult};

struct Credentials(Client);

#[async_trait]
impl Operation for Credentials {
    type Request = CredentialQuery;
    type Result = CredentialQueryResult;

    fn name(&self) -> &str {
        "jumdata credential"
    }
    fn provider(&self) -> &str {
        "jumdata"
    }
    fn columns(&self) -> &[&'static str] {
        &["name", "idcard"]
    }
    fn request(&self, row: &Row) -> Result<CredentialQuery, Error> {
        Ok(CredentialQuery::new(
            row.get("name").unwrap_or_default(),
            row.get("idcard").unwrap_or_default(),
        ))
    }
    async fn call(&self, q: &CredentialQuery) -> Result<Answer<CredentialQueryResult>, Error> {
        self.0.credential_query(q).await
    }
}

fn sandbox_client(sandbox: &Sandbox) -> Client {
    Client::builder()
        .app_id(JUMDATA_APP_ID)
        .app_secret(JUMDATA_APP_SECRET)
        .base_url(sandbox.base_url())
        .rate_limit(0)
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_run_resume_and_output_through_the_library() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = sandbox_client(&sandbox);
    let dir = std::env::temp_dir().join(format!(
        "cred-batch-engine-{}-{}",
        std::process::id(),
        cred_core::now_millis()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let input_path = dir.join("people.csv");
    // A person twice (the second with spaces and a lower-case x: the same normalised
    // input), an invalid ID number, another person.
    std::fs::write(
        &input_path,
        "姓名,身份证号\n李四,11010519491231002X\n李四, 11010519491231002x \n坏人,110105194912310021\n王小明,321083197812162119\n",
    )
    .unwrap();
    let mut input = Input::new(&input_path);
    input.columns = cred_batch::ColumnMap::new()
        .map("姓名", "name")
        .map("身份证号", "idcard");
    let journal = dir.join("people.journal");
    let batch = Batch::new(
        Arc::new(Credentials(client)),
        input,
        journal.clone(),
        Settings::default(),
    );
    let plan = batch.dry_run().unwrap();
    assert_eq!(
        (plan.rows, plan.invalid, plan.duplicates, plan.to_send),
        (4, 1, 1, 2)
    );
    assert!(!journal.exists(), "a dry run writes nothing");
    let summary = batch.run(Arc::new(NoProgress), Stop::new()).await.unwrap();
    assert_eq!(summary.count("answered"), 2);
    assert_eq!(summary.count("duplicate"), 1);
    assert_eq!(summary.count("invalid"), 1);
    assert_eq!(summary.sent, 2);
    assert!(!summary.unfinished);
    assert_eq!(sandbox.requests(), 2);
    // Resumed: nothing left to send.
    let again = batch.run(Arc::new(NoProgress), Stop::new()).await.unwrap();
    assert_eq!(again.sent, 0);
    assert_eq!(sandbox.requests(), 2);
    // The output, in input order, from the journal.
    let out = dir.join("out.jsonl");
    let j = Journal::open(&journal, "jumdata credential", "all").unwrap();
    // One run at a time: while the journal is open here, a run refuses at once.
    match batch.run(Arc::new(NoProgress), Stop::new()).await {
        Err(cred_batch::Error::Locked { pid, .. }) => assert_eq!(pid, Some(std::process::id())),
        other => panic!("{other:?}"),
    }
    // Nor may the output overwrite the journal.
    assert!(matches!(
        output::write(&j, Some(&journal), OutputFormat::JsonLines, "jumdata"),
        Err(cred_batch::Error::Paths { .. })
    ));
    let written = output::write(&j, Some(&out), OutputFormat::JsonLines, "jumdata").unwrap();
    assert_eq!(written.rows, 4);
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let statuses: Vec<&str> = lines
        .iter()
        .map(|l| l["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["answered", "duplicate", "invalid", "answered"]);
    assert_eq!(lines[1]["of"], 1);
    // CSV: flattened, one header, one line per row.
    let csv_out = dir.join("out.csv");
    output::write(&j, Some(&csv_out), OutputFormat::Csv, "jumdata").unwrap();
    let text = std::fs::read_to_string(&csv_out).unwrap();
    let header = text.lines().next().unwrap();
    assert!(
        header.starts_with("row,status,found,charged,request_id"),
        "{header}"
    );
    assert!(header.contains("result.items.0.occupation"), "{header}");
    assert_eq!(text.lines().count(), 5);
    drop(j);
    // A run that writes its own output, under the journal's lock.
    let mut input = Input::new(&input_path);
    input.columns = cred_batch::ColumnMap::new()
        .map("姓名", "name")
        .map("身份证号", "idcard");
    let client = sandbox_client(&sandbox);
    let own = dir.join("own.jsonl");
    let summary = Batch::new(
        Arc::new(Credentials(client)),
        input,
        journal,
        Settings::default(),
    )
    .output(Destination::File(own.clone()), OutputFormat::JsonLines)
    .run(Arc::new(NoProgress), Stop::new())
    .await
    .unwrap();
    assert_eq!(summary.written, Some(4));
    assert_eq!(
        std::fs::read_to_string(&own).unwrap(),
        std::fs::read_to_string(&out).unwrap()
    );
    assert_eq!(sandbox.requests(), 2);
    let _ = std::fs::remove_dir_all(&dir);
}
