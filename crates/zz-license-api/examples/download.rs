//! Download a licence file: a link (4.3.2), then the file, streamed to disk with a size
//! cap; written to `<file>.part` and renamed only when complete.
//!
//! Run it against the offline sandbox (no credentials, nothing billed; the audit context
//! comes from the ZZ_LICENSE_* variables it prints):
//!
//! ```sh
//! cargo run -q -p cred-cli -- sandbox serve --env-file sandbox.env --background && . ./sandbox.env
//! cargo run -p zz-license-api --example download -- 1.2.156.3005.2.11100000000013127D.11370400MB2856291X.C0000001.001.N licence.pdf
//! ```

use std::path::PathBuf;

use zz_license_api::{Client, Error, ShareDownloadUrl};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let id = args.next().unwrap_or_else(|| {
        "1.2.156.3005.2.11100000000013127D.11370400MB2856291X.C0000001.001.N".to_owned()
    });
    let target = PathBuf::from(args.next().unwrap_or_else(|| "licence.pdf".to_owned()));
    let part = target.with_extension("part");
    let client = Client::from_env()?;
    let mut file = std::fs::File::create(&part)
        .map_err(|e| Error::invalid("output", format!("cannot create the file: {e}")))?;
    match client
        .download_licence(&ShareDownloadUrl::new(id), &mut file)
        .await
        .map(|answer| answer.into_parts().0)
    {
        Ok(Some(d)) => {
            drop(file);
            std::fs::rename(&part, &target)
                .map_err(|e| Error::config(format!("cannot move the file into place: {e}")))?;
            println!(
                "{} bytes of {} written to {}",
                d.bytes,
                d.format,
                target.display()
            );
        }
        Ok(None) => {
            let _ = std::fs::remove_file(&part);
            println!("no download link for this licence");
        }
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            return Err(e);
        }
    }
    Ok(())
}
