//! The operations `cred batch` runs: a row's columns (named like the single command's
//! flags) become the same SDK request the single command sends.

use async_trait::async_trait;
use cred_batch::{Operation, Row};
use cred_core::{Answer, Error};
use cred_gateway::requests::{self as build, Named};

/// A row's columns as the request builders the gateway shares read them.
struct Columns<'a>(&'a Row);

impl Named for Columns<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name)
    }
}

/// `cred batch jumdata credential`
pub struct JumdataCredential(pub jumdata_api::Client);

#[async_trait]
impl Operation for JumdataCredential {
    type Request = jumdata_api::CredentialQuery;
    type Result = jumdata_api::CredentialQueryResult;

    fn name(&self) -> &str {
        "jumdata credential"
    }
    fn provider(&self) -> &str {
        "jumdata"
    }
    fn columns(&self) -> &[&'static str] {
        &["name", "idcard", "certificate-no"]
    }
    fn request(&self, row: &Row) -> Result<Self::Request, Error> {
        Ok(build::jumdata_credential(&Columns(row)))
    }
    async fn call(&self, q: &Self::Request) -> Result<Answer<Self::Result>, Error> {
        self.0.credential_query(q).await
    }
}

/// `cred batch jumdata idcard`
pub struct JumdataIdcard(pub jumdata_api::Client);

#[async_trait]
impl Operation for JumdataIdcard {
    type Request = jumdata_api::IdcardCheck;
    type Result = jumdata_api::IdcardCheckResult;

    fn name(&self) -> &str {
        "jumdata idcard"
    }
    fn provider(&self) -> &str {
        "jumdata"
    }
    fn columns(&self) -> &[&'static str] {
        &["name", "idcard"]
    }
    fn request(&self, row: &Row) -> Result<Self::Request, Error> {
        Ok(build::jumdata_idcard(&Columns(row)))
    }
    async fn call(&self, q: &Self::Request) -> Result<Answer<Self::Result>, Error> {
        self.0.idcard_check(q).await
    }
}

/// `cred batch juhe administrative-license`
pub struct JuheAdministrative(pub juhe_api::Client);

#[async_trait]
impl Operation for JuheAdministrative {
    type Request = juhe_api::AdministrativeLicenseListByName;
    type Result = juhe_api::AdministrativeLicenseResult;

    fn name(&self) -> &str {
        "juhe administrative-license"
    }
    fn provider(&self) -> &str {
        "juhe"
    }
    fn columns(&self) -> &[&'static str] {
        &["name", "skip"]
    }
    fn request(&self, row: &Row) -> Result<Self::Request, Error> {
        build::juhe_administrative_license(&Columns(row))
    }
    async fn call(&self, q: &Self::Request) -> Result<Answer<Self::Result>, Error> {
        self.0.administrative_license_list_by_name(q).await
    }
}

/// `cred batch juhe qualification`
pub struct JuheQualification(pub juhe_api::Client);

#[async_trait]
impl Operation for JuheQualification {
    type Request = juhe_api::ConLicByName;
    type Result = juhe_api::QualificationResult;

    fn name(&self) -> &str {
        "juhe qualification"
    }
    fn provider(&self) -> &str {
        "juhe"
    }
    fn columns(&self) -> &[&'static str] {
        &["name"]
    }
    fn request(&self, row: &Row) -> Result<Self::Request, Error> {
        Ok(build::juhe_qualification(&Columns(row)))
    }
    async fn call(&self, q: &Self::Request) -> Result<Answer<Self::Result>, Error> {
        self.0.con_lic_by_name(q).await
    }
}

/// A licence-platform operation's journal name: the city interface is another
/// operation (a journal serves one).
fn zz_name(city: bool, with_city: &'static str, without: &'static str) -> &'static str {
    if city { with_city } else { without }
}

/// `cred batch zz-license by-holder`
pub struct ZzByHolder {
    /// The client (audit context set).
    pub client: zz_license_api::Client,
    /// The city interface.
    pub city: bool,
}

#[async_trait]
impl Operation for ZzByHolder {
    type Request = zz_license_api::ShareQueryCertInfoByHolderCode;
    type Result = zz_license_api::Licences;

    fn name(&self) -> &str {
        zz_name(
            self.city,
            "zz-license by-holder --city",
            "zz-license by-holder",
        )
    }
    fn provider(&self) -> &str {
        "zz-license"
    }
    fn columns(&self) -> &[&'static str] {
        &[
            "holder-code",
            "holder-type",
            "cert-type",
            "certificate-number",
        ]
    }
    fn request(&self, row: &Row) -> Result<Self::Request, Error> {
        // With the platform's cross-parameter rules (a holder type for the city interface).
        build::zz_by_holder(&Columns(row), self.city)
    }
    async fn call(&self, q: &Self::Request) -> Result<Answer<Self::Result>, Error> {
        self.client.share_query_cert_info_by_holder_code(q).await
    }
    fn licence_status(&self, meta: &cred_core::ResponseMeta) -> Option<&'static str> {
        zz_license_api::LicenceStatus::of_meta(meta).map(|s| s.as_str())
    }
}

/// `cred batch zz-license info`
pub struct ZzInfo {
    /// The client (audit context set).
    pub client: zz_license_api::Client,
    /// The city interface.
    pub city: bool,
}

#[async_trait]
impl Operation for ZzInfo {
    type Request = zz_license_api::ShareQueryCertInfo;
    type Result = zz_license_api::Licences;

    fn name(&self) -> &str {
        zz_name(self.city, "zz-license info --city", "zz-license info")
    }
    fn provider(&self) -> &str {
        "zz-license"
    }
    fn columns(&self) -> &[&'static str] {
        &["certificate-id"]
    }
    fn request(&self, row: &Row) -> Result<Self::Request, Error> {
        build::zz_info(&Columns(row), self.city)
    }
    async fn call(&self, q: &Self::Request) -> Result<Answer<Self::Result>, Error> {
        self.client.share_query_cert_info(q).await
    }
    fn licence_status(&self, meta: &cred_core::ResponseMeta) -> Option<&'static str> {
        zz_license_api::LicenceStatus::of_meta(meta).map(|s| s.as_str())
    }
}

/// `cred batch zz-license verify`
pub struct ZzVerify {
    /// The client (audit context set).
    pub client: zz_license_api::Client,
    /// The city interface.
    pub city: bool,
}

#[async_trait]
impl Operation for ZzVerify {
    type Request = zz_license_api::ShareVerifyCertInfo;
    type Result = zz_license_api::DataVerification;

    fn name(&self) -> &str {
        zz_name(self.city, "zz-license verify --city", "zz-license verify")
    }
    fn provider(&self) -> &str {
        "zz-license"
    }
    fn columns(&self) -> &[&'static str] {
        &["cert-type", "holder-code", "data", "use-for"]
    }
    fn request(&self, row: &Row) -> Result<Self::Request, Error> {
        build::zz_verify(&Columns(row), self.city)
    }
    async fn call(&self, q: &Self::Request) -> Result<Answer<Self::Result>, Error> {
        self.client.share_verify_cert_info(q).await
    }
    fn licence_status(&self, meta: &cred_core::ResponseMeta) -> Option<&'static str> {
        zz_license_api::LicenceStatus::of_meta(meta).map(|s| s.as_str())
    }
}

/// `cred batch zhima jobworth`
pub struct ZhimaJobworth(pub zhima_api::Client);

#[async_trait]
impl Operation for ZhimaJobworth {
    type Request = zhima_api::JobworthAuthentication;
    type Result = zhima_api::JobworthAuthenticationResult;

    fn name(&self) -> &str {
        "zhima jobworth"
    }
    fn provider(&self) -> &str {
        "zhima"
    }
    fn columns(&self) -> &[&'static str] {
        &[
            "conn-key",
            "once-token",
            "query-type",
            "identity-type",
            "service-id",
            "user-id",
            "open-id",
            "cert-no",
            "cert-type",
        ]
    }
    fn request(&self, row: &Row) -> Result<Self::Request, Error> {
        build::zhima_jobworth(&Columns(row))
    }
    fn check(&self, q: &Self::Request) -> Result<(), Error> {
        // credkit's reading of the document, applied when the row is planned (as the
        // client would before sending).
        zhima_api::check_reading(q)
    }
    async fn call(&self, q: &Self::Request) -> Result<Answer<Self::Result>, Error> {
        self.0.jobworth_authentication(q).await
    }
}
