//! The identity service's problem codes, declared once: call sites name a variant, and the
//! OpenAPI document lists them all.

mercato_kernel::problem_codes! {
    /// Every problem the identity service gives besides the kernel's common ones.
    pub enum IdentityProblem in "identity" {
        AlreadyMember = (CONFLICT, "already_member", "Conflict"),
        AlreadyInvited = (CONFLICT, "already_invited", "Conflict"),
        LastOwner = (CONFLICT, "last_owner", "Conflict"),
        AccountChanged = (CONFLICT, "account_changed", "Conflict"),
        EmailTaken = (CONFLICT, "email_taken", "Conflict"),
        InvalidToken = (BAD_REQUEST, "invalid_token", "Bad request"),
        Busy = (SERVICE_UNAVAILABLE, "busy", "Unavailable"),
        TooManyAttempts = (TOO_MANY_REQUESTS, "too_many_attempts", "Too many attempts"),
        FeatureDisabled = (FORBIDDEN, "feature_disabled", "Feature not enabled"),
        AlreadyStaff = (CONFLICT, "already_staff", "Conflict"),
        InvitationAccepted = (CONFLICT, "invitation_accepted", "Conflict"),
    }
}
