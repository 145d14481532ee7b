//! A journal entry: lines whose debits equal their credits, each on one side only, built by
//! [`EntryBuilder`] so an amount is written once and its side follows from its sign. The
//! database checks the same again when the entry is posted (ADR 0038); this is the check
//! the code makes first, so a broken rule fails before it reaches the database.

use super::accounts::Account;
use mercato_kernel::Currency;
use mercato_orders_api::{OrderId, VendorOrderId};
use mercato_tenant_context::VendorId;

/// Why an entry was posted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A vendor order was paid.
    Sale,
    /// (Part of) a vendor order was refunded.
    Refund,
    /// A vendor was paid out.
    Payout,
    /// A payout booked as paid was taken back by the provider (a reversed transfer).
    PayoutReversal,
    /// Merchant staff recorded an expense.
    Expense,
    /// An expense was reversed (the correction of one recorded in error).
    ExpenseReversal,
    /// The payment provider took its fee on a payment.
    PaymentFee,
    /// The VAT inside a payout's commission moved from commission revenue to tax payable
    /// when its commission invoice was issued (ADR 0043).
    CommissionVat,
    /// The VAT inside commission credited to a vendor by a commission credit note moved
    /// back from tax payable to commission revenue (ADR 0043).
    CommissionVatReversal,
}

impl EntryKind {
    pub fn code(self) -> &'static str {
        match self {
            Self::Sale => "sale",
            Self::Refund => "refund",
            Self::Payout => "payout",
            Self::PayoutReversal => "payout_reversal",
            Self::Expense => "expense",
            Self::ExpenseReversal => "expense_reversal",
            Self::PaymentFee => "payment_fee",
            Self::CommissionVat => "commission_vat",
            Self::CommissionVatReversal => "commission_vat_reversal",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub account: Account,
    /// The vendor of a [`Account::VendorPayables`] line; `None` on every other account.
    pub vendor: Option<VendorId>,
    pub debit: i64,
    pub credit: i64,
}

/// What made the entry: the event (none for what staff record through the API, such as an
/// expense), and the order it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub event_id: Option<uuid::Uuid>,
    pub event: Option<String>,
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    pub order: Option<OrderId>,
    pub vendor_order: Option<VendorOrderId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// What the entry books, once: a second entry with the same key is never posted
    /// (`sale:vor_…`, `refund:rfd_…:vor_…`).
    pub key: String,
    pub kind: EntryKind,
    pub currency: Currency,
    pub memo: String,
    pub source: Source,
    pub lines: Vec<Line>,
}

impl Entry {
    /// The sum of the debits, which equals the sum of the credits.
    pub fn total(&self) -> i64 {
        self.lines.iter().map(|l| l.debit).sum()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    #[error("the entry's debits ({debits}) and credits ({credits}) differ")]
    Unbalanced { debits: i64, credits: i64 },
    #[error("the entry has no amount")]
    Empty,
    #[error("an amount overflows")]
    Overflow,
}

/// Collects an entry's lines. An amount of 0 writes no line; a negative amount goes to the
/// other side.
pub struct EntryBuilder {
    lines: Vec<Line>,
    overflow: bool,
}

impl EntryBuilder {
    pub fn new() -> Self {
        Self {
            lines: Vec::new(),
            overflow: false,
        }
    }

    fn line(mut self, account: Account, vendor: Option<VendorId>, debit: i64) -> Self {
        if debit == i64::MIN {
            self.overflow = true;
            return self;
        }
        if debit != 0 {
            let (debit, credit) = if debit > 0 { (debit, 0) } else { (0, -debit) };
            self.lines.push(Line {
                account,
                vendor,
                debit,
                credit,
            });
        }
        self
    }

    pub fn debit(self, account: Account, amount: i64) -> Self {
        self.line(account, None, amount)
    }

    pub fn credit(self, account: Account, amount: i64) -> Self {
        match amount.checked_neg() {
            Some(debit) => self.line(account, None, debit),
            None => Self {
                overflow: true,
                ..self
            },
        }
    }

    /// What the shop owes `vendor` grows by `amount` (a credit to its payable).
    pub fn owe_vendor(self, vendor: VendorId, amount: i64) -> Self {
        match amount.checked_neg() {
            Some(debit) => self.line(Account::VendorPayables, Some(vendor), debit),
            None => Self {
                overflow: true,
                ..self
            },
        }
    }

    /// The lines, checked: at least one, debits equal to credits.
    pub fn finish(self) -> Result<Vec<Line>, EntryError> {
        if self.overflow {
            return Err(EntryError::Overflow);
        }
        let sum = |f: fn(&Line) -> i64| {
            self.lines
                .iter()
                .try_fold(0i64, |acc, l| acc.checked_add(f(l)))
                .ok_or(EntryError::Overflow)
        };
        let (debits, credits) = (sum(|l| l.debit)?, sum(|l| l.credit)?);
        if debits != credits {
            return Err(EntryError::Unbalanced { debits, credits });
        }
        if debits == 0 {
            return Err(EntryError::Empty);
        }
        Ok(self.lines)
    }
}

impl Default for EntryBuilder {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sides_follow_the_sign_and_zero_writes_nothing() {
        let vendor = VendorId::new();
        let lines = EntryBuilder::new()
            .debit(Account::PspClearing, 1_000)
            .credit(Account::TaxPayable, 0)
            .credit(Account::CommissionRevenue, -50)
            .owe_vendor(vendor, 1_050)
            .finish()
            .unwrap();
        assert_eq!(lines.len(), 3);
        assert_eq!((lines[1].debit, lines[1].credit), (50, 0));
        assert_eq!(lines[2].vendor, Some(vendor));
        assert_eq!((lines[2].debit, lines[2].credit), (0, 1_050));
    }

    #[test]
    fn an_unbalanced_or_empty_entry_is_refused() {
        assert_eq!(
            EntryBuilder::new()
                .debit(Account::PspClearing, 100)
                .credit(Account::TaxPayable, 99)
                .finish(),
            Err(EntryError::Unbalanced {
                debits: 100,
                credits: 99
            })
        );
        assert_eq!(EntryBuilder::new().finish(), Err(EntryError::Empty));
        assert_eq!(
            EntryBuilder::new()
                .debit(Account::PspClearing, i64::MAX)
                .debit(Account::Bank, 1)
                .finish(),
            Err(EntryError::Overflow)
        );
    }
}
