//! The tenants service's problem codes, declared once: call sites name a variant, and the
//! OpenAPI document lists them all.

mercato_kernel::problem_codes! {
    /// Every problem the tenants service gives besides the kernel's common ones.
    pub enum TenantsProblem in "tenants" {
        DomainTaken = (CONFLICT, "domain_taken", "Conflict"),
        DomainExists = (CONFLICT, "domain_exists", "Conflict"),
        SlugTaken = (CONFLICT, "slug_taken", "Conflict"),
    }
}
