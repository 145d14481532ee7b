//! The vendors service's problem codes, declared once: call sites name a variant, and the
//! OpenAPI document lists them all.

mercato_kernel::problem_codes! {
    /// Every problem the vendors service gives besides the kernel's common ones.
    pub enum VendorsProblem in "vendors" {
        VendorRejected = (CONFLICT, "vendor_rejected", "Conflict"),
        SlugTaken = (CONFLICT, "slug_taken", "Conflict"),
        VendorNotSelling = (CONFLICT, "vendor_not_selling", "Conflict"),
        ChecklistIncomplete = (CONFLICT, "checklist_incomplete", "Conflict"),
        InvalidTransition = (CONFLICT, "invalid_transition", "Conflict"),
    }
}
