//! The chart of accounts every shop's ledger has, per currency (ADR 0038). Codes follow the
//! usual numbering: 1 assets, 2 liabilities, 3 equity, 4 income, 5–6 expenses.

use serde::Serialize;

/// What an account is, which decides its normal side: assets and expenses grow by debits,
/// liabilities, equity and income by credits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Asset,
    Liability,
    Equity,
    Income,
    Expense,
}

impl Kind {
    pub fn code(self) -> &'static str {
        match self {
            Self::Asset => "asset",
            Self::Liability => "liability",
            Self::Equity => "equity",
            Self::Income => "income",
            Self::Expense => "expense",
        }
    }

    /// Whether a debit raises the account's balance.
    pub fn debit_normal(self) -> bool {
        matches!(self, Self::Asset | Self::Expense)
    }
}

/// One account of the chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Account {
    /// Money the payment provider holds for the shop: shoppers' payments in, refunds and
    /// payouts out, fees off.
    PspClearing,
    /// The shop's bank account (payouts by bank transfer, the provider's settlements).
    Bank,
    /// VAT the shop paid on its expenses and may reclaim.
    InputVat,
    /// What the shop owes each vendor (lines carry the vendor).
    VendorPayables,
    /// Tax collected on sales (the marketplace collects and owes it) and VAT on commission.
    TaxPayable,
    /// The shop's commission on its vendors' sales.
    CommissionRevenue,
    /// Shipping the shop charges in its own name.
    ShippingRevenue,
    /// Discounts the shop funds: it pays the vendor what the shopper did not.
    ShopFundedDiscounts,
    /// What the payment provider charges.
    PaymentFees,
    /// Refunds the shop bears itself (goodwill, beyond what vendors give back).
    Refunds,
    /// Expenses merchant staff record, by category.
    ProductCost,
    Marketing,
    DeliveryCost,
    OtherExpenses,
}

impl Account {
    pub const ALL: [Self; 14] = [
        Self::PspClearing,
        Self::Bank,
        Self::InputVat,
        Self::VendorPayables,
        Self::TaxPayable,
        Self::CommissionRevenue,
        Self::ShippingRevenue,
        Self::ShopFundedDiscounts,
        Self::PaymentFees,
        Self::Refunds,
        Self::ProductCost,
        Self::Marketing,
        Self::DeliveryCost,
        Self::OtherExpenses,
    ];

    /// The stored code; `2100` is the one account whose lines name a vendor (the schema
    /// checks it).
    pub fn code(self) -> &'static str {
        match self {
            Self::PspClearing => "1100",
            Self::Bank => "1200",
            Self::InputVat => "1300",
            Self::VendorPayables => "2100",
            Self::TaxPayable => "2200",
            Self::CommissionRevenue => "4100",
            Self::ShippingRevenue => "4200",
            Self::ShopFundedDiscounts => "5100",
            Self::PaymentFees => "5200",
            Self::Refunds => "5300",
            Self::ProductCost => "6100",
            Self::Marketing => "6200",
            Self::DeliveryCost => "6300",
            Self::OtherExpenses => "6900",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::PspClearing => "Payment provider clearing",
            Self::Bank => "Bank",
            Self::InputVat => "Input VAT",
            Self::VendorPayables => "Vendor payables",
            Self::TaxPayable => "Tax payable",
            Self::CommissionRevenue => "Commission revenue",
            Self::ShippingRevenue => "Shipping revenue",
            Self::ShopFundedDiscounts => "Discounts funded by the shop",
            Self::PaymentFees => "Payment fees",
            Self::Refunds => "Refunds borne by the shop",
            Self::ProductCost => "Product cost",
            Self::Marketing => "Marketing",
            Self::DeliveryCost => "Delivery cost",
            Self::OtherExpenses => "Other expenses",
        }
    }

    pub fn kind(self) -> Kind {
        match self {
            Self::PspClearing | Self::Bank | Self::InputVat => Kind::Asset,
            Self::VendorPayables | Self::TaxPayable => Kind::Liability,
            Self::CommissionRevenue | Self::ShippingRevenue => Kind::Income,
            Self::ShopFundedDiscounts
            | Self::PaymentFees
            | Self::Refunds
            | Self::ProductCost
            | Self::Marketing
            | Self::DeliveryCost
            | Self::OtherExpenses => Kind::Expense,
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.code() == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_read_back() {
        for a in Account::ALL {
            assert_eq!(Account::parse(a.code()), Some(a));
            assert_eq!(
                Account::ALL.iter().filter(|b| b.code() == a.code()).count(),
                1
            );
        }
        assert_eq!(Account::parse("9999"), None);
        // The schema names the vendor account by its code.
        assert_eq!(Account::VendorPayables.code(), "2100");
    }

    #[test]
    fn the_first_digit_says_the_kind() {
        for a in Account::ALL {
            let expected = match &a.code()[..1] {
                "1" => Kind::Asset,
                "2" => Kind::Liability,
                "3" => Kind::Equity,
                "4" => Kind::Income,
                _ => Kind::Expense,
            };
            assert_eq!(a.kind(), expected, "{a:?}");
        }
    }
}
