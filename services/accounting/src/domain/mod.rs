//! The ledger's types and rules, free of storage and HTTP: the chart of accounts, journal
//! entries that balance, and the posting rules from orders' events.

pub mod accounts;
pub mod commission;
pub mod entry;
pub mod expense;
pub mod invoice;
pub mod period;
pub mod posting;
pub mod reconciliation;

mercato_kernel::typed_id!(
    /// A posted journal entry.
    pub EntryId, "jen"
);

mercato_kernel::typed_id!(
    /// A customer document: an invoice or a credit note.
    pub DocumentId, "doc"
);

mercato_kernel::typed_id!(
    /// An expense merchant staff recorded.
    pub ExpenseId, "exp"
);
