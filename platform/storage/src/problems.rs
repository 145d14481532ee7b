//! Object storage's problem codes, declared once: call sites name a variant, and the
//! OpenAPI document lists them all.

mercato_kernel::problem_codes! {
    /// Every problem uploads and downloads give besides the kernel's common ones.
    pub enum StorageProblem in "storage" {
        Empty = (UNPROCESSABLE_ENTITY, "empty", "The upload is empty"),
        TooLarge = (PAYLOAD_TOO_LARGE, "too_large", "The upload is too large"),
        InvalidSignature = (FORBIDDEN, "invalid_signature", "Not allowed"),
        LinkExpired = (FORBIDDEN, "link_expired", "Not allowed"),
    }
}
