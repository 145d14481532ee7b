//! The accounting service's problem codes, declared once: call sites name a variant, and the
//! OpenAPI document lists them all.

mercato_kernel::problem_codes! {
    /// Every problem the accounting service gives besides the kernel's common ones.
    pub enum AccountingProblem in "accounting" {
        /// The document's PDF is still being rendered: ask again after `Retry-After`.
        DocumentNotRendered = (ACCEPTED, "document_not_rendered", "Not rendered yet"),
        /// The `Idempotency-Key` recorded an expense with another request.
        IdempotencyKeyReused = (UNPROCESSABLE_ENTITY, "idempotency_key_reused", "Idempotency key reused"),
    }
}
