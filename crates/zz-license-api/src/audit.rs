//! The audit context every share call carries: who calls, for which government matter,
//! and why. Set once on the client, overridable per call, checked before anything is
//! sent.

use std::fmt;

use cred_core::secret::var_from_env;
use cred_core::{ApiRequest, Endpoint, Error, Redactor};

use crate::types::CallCategory;

/// Longest copy cause (申请事由) the platform accepts, in characters: the document's "申请事由,
/// 不超过 200 字" (4.3.2, 4.3.3, 4.3.6, 4.3.7).
pub const MAX_CAUSE_CHARS: usize = 200;
/// Longest other audit value accepted, in characters. The document sets no length for
/// them: this is credkit's own bound against absurd input
/// ([`cred_core::validate::SANITY_MAX_CHARS`]).
pub const MAX_AUDIT_CHARS: usize = cred_core::validate::SANITY_MAX_CHARS;

/// Environment variables [`AuditContext::from_env`] reads, with their wire names.
pub const AUDIT_ENV: &[(&str, &str)] = &[
    ("ZZ_LICENSE_SYSTEM_NAME", "certificateSystemName"),
    ("ZZ_LICENSE_CALL_CATEGORY", "certificateCallCategory"),
    ("ZZ_LICENSE_MATTER_NAME", "certificateMatterName"),
    ("ZZ_LICENSE_EVENT_CODE", "certificateEventCode"),
    ("ZZ_LICENSE_COPY_CAUSE", "certificateCopyCause"),
    ("ZZ_LICENSE_CALL_DISTRICT", "callDistrict"),
    ("ZZ_LICENSE_CALL_DEPARTMENT", "callDepartment"),
    ("ZZ_LICENSE_DISTRICT_LEVEL", "districtLevel"),
];

/// Which audit fields an interface takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuditScope {
    /// System, category, matter, event code and copy cause (required) plus district,
    /// department and level (optional): the query and download interfaces.
    Full,
    /// District, department and level only (optional): the verification interfaces,
    /// which carry their own purpose (`useFor`, `useCause`).
    District,
}

/// The audit context (调用方信息): every field optional here; the interfaces that need
/// the required ones refuse to send without them.
///
/// ```
/// use zz_license_api::{AuditContext, CallCategory};
///
/// let audit = AuditContext::new()
///     .system_name("人社一体化服务平台")
///     .call_category(CallCategory::Matter)
///     .matter_name("个人参保缴费证明查询打印")
///     .event_code("1137000000450258552372014020002")
///     .copy_cause("个人参保缴费证明查询打印，需要用到身份证数据")
///     .district("薛城区");
/// assert!(audit.check_complete().is_ok());
/// // Per call: only the cause differs.
/// let other = audit.merged(&AuditContext::new().copy_cause("窗口现场核验"));
/// assert_eq!(other.get_copy_cause(), Some("窗口现场核验"));
/// assert_eq!(other.get_district(), Some("薛城区"));
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct AuditContext {
    system_name: Option<String>,
    call_category: Option<CallCategory>,
    matter_name: Option<String>,
    event_code: Option<String>,
    copy_cause: Option<String>,
    district: Option<String>,
    department: Option<String>,
    district_level: Option<String>,
}

impl fmt::Debug for AuditContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The cause is free text and may name a person: its length only.
        f.debug_struct("AuditContext")
            .field("system_name", &self.system_name)
            .field("call_category", &self.call_category)
            .field("matter_name", &self.matter_name)
            .field("event_code", &self.event_code)
            .field(
                "copy_cause",
                &self
                    .copy_cause
                    .as_ref()
                    .map(|c| format!("<{} chars>", c.chars().count())),
            )
            .field("district", &self.district)
            .field("department", &self.department)
            .field("district_level", &self.district_level)
            .finish()
    }
}

fn set(value: impl Into<String>) -> Option<String> {
    let v = value.into();
    let t = v.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

impl AuditContext {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads the `ZZ_LICENSE_*` variables of [`AUDIT_ENV`]; unset ones stay unset.
    pub fn from_env() -> Result<Self, Error> {
        let mut audit = AuditContext::new();
        audit.system_name = var_from_env("ZZ_LICENSE_SYSTEM_NAME");
        if let Some(c) = var_from_env("ZZ_LICENSE_CALL_CATEGORY") {
            audit.call_category = Some(
                c.parse()
                    .map_err(|e| Error::config(format!("ZZ_LICENSE_CALL_CATEGORY: {e}")))?,
            );
        }
        audit.matter_name = var_from_env("ZZ_LICENSE_MATTER_NAME");
        audit.event_code = var_from_env("ZZ_LICENSE_EVENT_CODE");
        audit.copy_cause = var_from_env("ZZ_LICENSE_COPY_CAUSE");
        audit.district = var_from_env("ZZ_LICENSE_CALL_DISTRICT");
        audit.department = var_from_env("ZZ_LICENSE_CALL_DEPARTMENT");
        audit.district_level = var_from_env("ZZ_LICENSE_DISTRICT_LEVEL");
        Ok(audit)
    }

    /// 系统名称 (`certificateSystemName`), e.g. `XXXX 服务平台`.
    pub fn system_name(mut self, value: impl Into<String>) -> Self {
        self.system_name = set(value);
        self
    }

    /// 调用类别 (`certificateCallCategory`).
    pub fn call_category(mut self, value: CallCategory) -> Self {
        self.call_category = Some(value);
        self
    }

    /// 事项名称 (`certificateMatterName`).
    pub fn matter_name(mut self, value: impl Into<String>) -> Self {
        self.matter_name = set(value);
        self
    }

    /// 事项编码 (`certificateEventCode`, the matter's 实施编码).
    pub fn event_code(mut self, value: impl Into<String>) -> Self {
        self.event_code = set(value);
        self
    }

    /// 申请事由 (`certificateCopyCause`), at most 200 characters.
    pub fn copy_cause(mut self, value: impl Into<String>) -> Self {
        self.copy_cause = set(value);
        self
    }

    /// 调用区（市） (`callDistrict`): 市中区, 薛城区, 峄城区, 台儿庄区, 山亭区, 滕州市.
    pub fn district(mut self, value: impl Into<String>) -> Self {
        self.district = set(value);
        self
    }

    /// 调用部门 (`callDepartment`).
    pub fn department(mut self, value: impl Into<String>) -> Self {
        self.department = set(value);
        self
    }

    /// 区（市）级别 (`districtLevel`): 市级, 区级, 街镇级.
    pub fn district_level(mut self, value: impl Into<String>) -> Self {
        self.district_level = set(value);
        self
    }

    /// `certificateSystemName` as set.
    pub fn get_system_name(&self) -> Option<&str> {
        self.system_name.as_deref()
    }

    /// `certificateCallCategory` as set.
    pub fn get_call_category(&self) -> Option<CallCategory> {
        self.call_category
    }

    /// `certificateMatterName` as set.
    pub fn get_matter_name(&self) -> Option<&str> {
        self.matter_name.as_deref()
    }

    /// `certificateEventCode` as set.
    pub fn get_event_code(&self) -> Option<&str> {
        self.event_code.as_deref()
    }

    /// `certificateCopyCause` as set.
    pub fn get_copy_cause(&self) -> Option<&str> {
        self.copy_cause.as_deref()
    }

    /// `callDistrict` as set.
    pub fn get_district(&self) -> Option<&str> {
        self.district.as_deref()
    }

    /// `callDepartment` as set.
    pub fn get_department(&self) -> Option<&str> {
        self.department.as_deref()
    }

    /// `districtLevel` as set.
    pub fn get_district_level(&self) -> Option<&str> {
        self.district_level.as_deref()
    }

    /// This context with every field `overrides` sets replaced.
    pub fn merged(&self, overrides: &AuditContext) -> AuditContext {
        fn pick<T: Clone>(over: &Option<T>, base: &Option<T>) -> Option<T> {
            over.clone().or_else(|| base.clone())
        }
        AuditContext {
            system_name: pick(&overrides.system_name, &self.system_name),
            call_category: pick(&overrides.call_category, &self.call_category),
            matter_name: pick(&overrides.matter_name, &self.matter_name),
            event_code: pick(&overrides.event_code, &self.event_code),
            copy_cause: pick(&overrides.copy_cause, &self.copy_cause),
            district: pick(&overrides.district, &self.district),
            department: pick(&overrides.department, &self.department),
            district_level: pick(&overrides.district_level, &self.district_level),
        }
    }

    /// Checks the lengths of the values that are set.
    pub fn check(&self) -> Result<(), Error> {
        if let Some(c) = &self.copy_cause
            && c.chars().count() > MAX_CAUSE_CHARS
        {
            return Err(Error::invalid(
                "certificateCopyCause",
                format!("must be at most {MAX_CAUSE_CHARS} characters"),
            ));
        }
        for (field, value) in self.texts() {
            if let Some(v) = value
                && v.chars().count() > MAX_AUDIT_CHARS
            {
                return Err(Error::invalid(
                    field,
                    format!(
                        "is longer than {MAX_AUDIT_CHARS} characters: credkit's own bound against absurd input (the document sets no limit)"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Checks that the fields the query and download interfaces require are all set
    /// (and [`AuditContext::check`]).
    pub fn check_complete(&self) -> Result<(), Error> {
        self.check()?;
        let missing = [
            (
                "certificateSystemName",
                self.system_name.is_none(),
                "system_name",
                "ZZ_LICENSE_SYSTEM_NAME",
            ),
            (
                "certificateCallCategory",
                self.call_category.is_none(),
                "call_category",
                "ZZ_LICENSE_CALL_CATEGORY",
            ),
            (
                "certificateMatterName",
                self.matter_name.is_none(),
                "matter_name",
                "ZZ_LICENSE_MATTER_NAME",
            ),
            (
                "certificateEventCode",
                self.event_code.is_none(),
                "event_code",
                "ZZ_LICENSE_EVENT_CODE",
            ),
            (
                "certificateCopyCause",
                self.copy_cause.is_none(),
                "copy_cause",
                "ZZ_LICENSE_COPY_CAUSE",
            ),
        ];
        match missing.iter().find(|m| m.1) {
            Some((field, _, setter, var)) => Err(Error::invalid(
                field,
                format!(
                    "is required by this interface: set it with AuditContext::{setter} (or {var}) on the client or for this call"
                ),
            )),
            None => Ok(()),
        }
    }

    /// The check an interface taking `scope` makes: [`AuditContext::check_complete`]
    /// for [`AuditScope::Full`], [`AuditContext::check`] for [`AuditScope::District`].
    pub(crate) fn check_for(&self, scope: AuditScope) -> Result<(), Error> {
        match scope {
            AuditScope::Full => self.check_complete(),
            AuditScope::District => self.check(),
        }
    }

    fn texts(&self) -> [(&'static str, Option<&str>); 6] {
        [
            ("certificateSystemName", self.system_name.as_deref()),
            ("certificateMatterName", self.matter_name.as_deref()),
            ("certificateEventCode", self.event_code.as_deref()),
            ("callDistrict", self.district.as_deref()),
            ("callDepartment", self.department.as_deref()),
            ("districtLevel", self.district_level.as_deref()),
        ]
    }

    /// Appends the wire parameters of `scope` that are set and not already in `out`.
    pub fn write_params(&self, scope: AuditScope, out: &mut Vec<(&'static str, String)>) {
        let mut push = |wire: &'static str, value: Option<&str>| {
            if let Some(v) = value
                && !out.iter().any(|(k, _)| *k == wire)
            {
                out.push((wire, v.to_owned()));
            }
        };
        if scope == AuditScope::Full {
            push("certificateSystemName", self.system_name.as_deref());
            push(
                "certificateCallCategory",
                self.call_category.map(CallCategory::code),
            );
            push("certificateMatterName", self.matter_name.as_deref());
            push("certificateEventCode", self.event_code.as_deref());
            push("certificateCopyCause", self.copy_cause.as_deref());
        }
        push("callDistrict", self.district.as_deref());
        push("callDepartment", self.department.as_deref());
        push("districtLevel", self.district_level.as_deref());
    }
}

/// A generated request of this platform: which audit fields it takes and the checks
/// that span several of its parameters. Implement it for a new endpoint's request type
/// (one line for most) after adding the endpoint to `api.toml`.
pub trait ZzRequest: ApiRequest<Response: crate::results::Shaped> {
    /// The audit fields the interface takes.
    const AUDIT: AuditScope;

    /// Checks beyond the per-parameter ones of [`ApiRequest::validate`].
    fn check(&self) -> Result<(), Error> {
        Ok(())
    }
}

/// A request with the client's audit context applied: what actually goes out.
pub(crate) struct Audited<'a, R> {
    pub(crate) inner: &'a R,
    pub(crate) audit: &'a AuditContext,
}

impl<R: ZzRequest> ApiRequest for Audited<'_, R> {
    type Response = R::Response;

    fn endpoint(&self) -> &'static Endpoint {
        self.inner.endpoint()
    }

    fn validate(&self) -> Result<(), Error> {
        self.inner.validate()?;
        self.inner.check()?;
        self.audit.check_for(R::AUDIT)
    }

    fn write_params(&self, out: &mut Vec<(&'static str, String)>) {
        self.inner.write_params(out);
        self.audit.write_params(R::AUDIT, out);
    }

    fn register_pii<'b>(&'b self, redactor: &mut Redactor<'b>) {
        self.inner.register_pii(redactor);
    }
}

/// A raw request with the client's audit context applied (`Client::call_raw`): the
/// scope is the caller's, not a type's.
pub(crate) struct RawAudited<'a> {
    pub(crate) inner: cred_core::raw::BoundRaw<'a>,
    pub(crate) audit: &'a AuditContext,
    pub(crate) scope: AuditScope,
}

impl ApiRequest for RawAudited<'_> {
    type Response = serde_json::Value;

    fn endpoint(&self) -> &'static Endpoint {
        self.inner.endpoint()
    }

    fn validate(&self) -> Result<(), Error> {
        self.inner.validate()?;
        self.audit.check_for(self.scope)
    }

    fn write_params(&self, out: &mut Vec<(&'static str, String)>) {
        self.inner.write_params(out);
        self.audit.write_params(self.scope, out);
    }

    fn register_pii<'b>(&'b self, redactor: &mut Redactor<'b>) {
        self.inner.register_pii(redactor);
    }
}
