//! The catalog service's problem codes, declared once: call sites name a variant, and the
//! OpenAPI document lists them all.

mercato_kernel::problem_codes! {
    /// Every problem the catalog service gives besides the kernel's common ones.
    pub enum CatalogProblem in "catalog" {
        BadBody = (BAD_REQUEST, "bad_body", "Bad request"),
        MalformedJson = (BAD_REQUEST, "malformed_json", "Bad request"),
        UnsupportedMediaType = (UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "Unsupported media type"),
        BodyTooLarge = (PAYLOAD_TOO_LARGE, "body_too_large", "Body too large"),
        CodeTaken = (CONFLICT, "code_taken", "Conflict"),
        OptionInUse = (CONFLICT, "option_in_use", "Conflict"),
        AttributeInUse = (CONFLICT, "attribute_in_use", "Conflict"),
        NoVariants = (CONFLICT, "no_variants", "Conflict"),
        SlugTaken = (CONFLICT, "slug_taken", "Conflict"),
        CategoryNotEmpty = (CONFLICT, "category_not_empty", "Conflict"),
        VendorNotSelling = (CONFLICT, "vendor_not_selling", "Conflict"),
        SkuTaken = (CONFLICT, "sku_taken", "Conflict"),
        Duplicate = (CONFLICT, "duplicate", "Conflict"),
        TooManyImages = (CONFLICT, "too_many_images", "Conflict"),
        TooManyVariants = (CONFLICT, "too_many_variants", "Conflict"),
        LastVariant = (CONFLICT, "last_variant", "Conflict"),
        InvalidTransition = (CONFLICT, "invalid_transition", "Conflict"),
        ProductChanged = (CONFLICT, "product_changed", "Conflict"),
    }
}
