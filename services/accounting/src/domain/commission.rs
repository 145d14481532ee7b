//! The shop's commission invoice to a vendor per payout (ADR 0043): who the parties are,
//! which VAT applies, and the amounts. Pure functions of the shop's settings, the vendor's
//! legal details (mirrored from vendors), the shop's tax rates (mirrored from orders) and
//! the payout's items.
//!
//! The commission booked at each sale is VAT-inclusive gross, so vendors' balances never
//! change because of the invoice: the invoice shows `net = gross − VAT` with
//! `VAT = gross × rate / (100 + rate)` rounded half up, at the shop's `standard` rate for
//! the vendor's country (0 when it has none). A vendor in another EU member state than the
//! shop, with a valid-looking VAT id, gets reverse charge instead: 0 % and [`REVERSE_CHARGE`]
//! (when the shop has a VAT id of its own too).

use super::expense::VatRate;
use super::invoice::{Amounts, Printed, PrintedLine, PrintedParty};
use mercato_kernel::country;
use mercato_payouts_api::PayoutItem;
use mercato_vendors_api::vendor::LegalDetails;

/// The note a reverse-charge invoice carries.
pub const REVERSE_CHARGE: &str = "Reverse charge: VAT to be accounted for by the recipient (Art. 196 Council Directive 2006/112/EC)";

/// The tax category whose rate applies to commission.
pub const STANDARD: &str = "standard";

/// How VAT applies to a commission invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VatTreatment {
    /// VAT at this rate is inside the commission.
    Taxed(VatRate),
    /// The vendor accounts for the VAT: none on the invoice.
    ReverseCharge,
}

/// The treatment of commission charged by `shop` to `vendor`, whose country's `standard`
/// rate in the shop's settings is `rate` (none: 0). Reverse charge is between two EU member
/// states and needs both parties' VAT ids (the invoice prints both).
pub fn treatment(
    shop: &LegalDetails,
    vendor: &LegalDetails,
    rate: Option<VatRate>,
) -> VatTreatment {
    let registered = |party: &LegalDetails| {
        country::is_eu(&party.country)
            && party
                .vat_id
                .as_deref()
                .is_some_and(|id| country::vat_id_looks_valid(&party.country, id))
    };
    let reverse = vendor.country != shop.country && registered(shop) && registered(vendor);
    if reverse {
        VatTreatment::ReverseCharge
    } else {
        VatTreatment::Taxed(rate.unwrap_or(VatRate::ZERO))
    }
}

impl VatTreatment {
    /// The rate printed on the lines: `"19"`, `"0"` for reverse charge.
    pub fn printed_rate(self) -> String {
        match self {
            Self::Taxed(rate) => rate.to_string(),
            Self::ReverseCharge => "0".to_owned(),
        }
    }

    /// The amounts of an invoice of `gross` commission.
    pub fn amounts(self, gross: i64) -> Amounts {
        let tax = match self {
            Self::Taxed(rate) => rate.vat_in(gross),
            Self::ReverseCharge => 0,
        };
        Amounts {
            net: gross - tax,
            tax,
            shipping: 0,
            discount: 0,
            total: gross,
        }
    }
}

/// A party as printed from its legal details: the legal name, the address lines, postal
/// code and city, the country, and the VAT id.
pub fn party(legal: &LegalDetails) -> PrintedParty {
    let mut lines = Vec::new();
    if let Some(address) = &legal.address {
        lines.extend(address.lines.iter().cloned());
        lines.push(format!("{} {}", address.postal_code, address.city));
    }
    lines.push(legal.country.clone());
    PrintedParty {
        name: legal.legal_name.clone(),
        lines,
        tax_id: legal.vat_id.clone(),
    }
}

/// What the commission invoice of `items` prints, from `shop` to `vendor` (`None`: the
/// vendor's details are not known to accounting yet; it is named by its id).
pub fn print(
    shop: &LegalDetails,
    vendor: Option<&LegalDetails>,
    vendor_name: &str,
    items: &[PayoutItem],
    vat: VatTreatment,
) -> Printed {
    let rate = vat.printed_rate();
    let lines = items
        .iter()
        .map(|item| PrintedLine {
            title: format!("Commission on vendor order {}", item.vendor_order_id),
            sku: String::new(),
            quantity: 1,
            unit_price: item.commission,
            tax_rate: rate.clone(),
            total: item.commission,
        })
        .collect();
    let mut notes = Vec::new();
    if vat == VatTreatment::ReverseCharge {
        notes.push(REVERSE_CHARGE.to_owned());
    }
    Printed {
        seller: party(shop),
        buyer: Some(vendor.map_or_else(
            || PrintedParty {
                name: vendor_name.to_owned(),
                lines: Vec::new(),
                tax_id: None,
            },
            party,
        )),
        buyer_email: None,
        prices_include_tax: vat != VatTreatment::ReverseCharge,
        lines,
        refers_to: None,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mercato_orders_api::{OrderId, VendorOrderId};

    fn legal(country: &str, vat_id: Option<&str>) -> LegalDetails {
        LegalDetails {
            legal_name: "X".into(),
            address: None,
            country: country.into(),
            vat_id: vat_id.map(str::to_owned),
        }
    }

    fn rate(text: &str) -> VatRate {
        VatRate::parse(text).unwrap()
    }

    #[test]
    fn another_eu_state_with_a_vat_id_is_reverse_charged_else_the_rate_applies() {
        let r = Some(rate("19"));
        let shop = legal("DE", Some("DE123456789"));
        assert_eq!(
            treatment(&shop, &legal("AT", Some("ATU12345678")), r),
            VatTreatment::ReverseCharge
        );
        assert_eq!(
            treatment(&shop, &legal("GR", Some("EL123456789")), r),
            VatTreatment::ReverseCharge
        );
        // No VAT id, a malformed one, the shop's own country, outside the EU: taxed.
        assert_eq!(
            treatment(&shop, &legal("AT", None), r),
            VatTreatment::Taxed(rate("19"))
        );
        assert_eq!(
            treatment(&shop, &legal("AT", Some("DE123456789")), r),
            VatTreatment::Taxed(rate("19"))
        );
        assert_eq!(
            treatment(&shop, &legal("DE", Some("DE123456789")), r),
            VatTreatment::Taxed(rate("19"))
        );
        assert_eq!(
            treatment(&shop, &legal("CH", Some("CHE123456789")), None),
            VatTreatment::Taxed(VatRate::ZERO)
        );
        // A shop without a VAT id of its own cannot reverse-charge.
        assert_eq!(
            treatment(&legal("DE", None), &legal("AT", Some("ATU12345678")), r),
            VatTreatment::Taxed(rate("19"))
        );
    }

    #[test]
    fn the_vat_is_inside_the_gross_commission() {
        // 3.90 at 19 %: 390 × 19 / 119 = 62.27 → 62 VAT, 328 net.
        let a = VatTreatment::Taxed(rate("19")).amounts(390);
        assert_eq!((a.net, a.tax, a.total), (328, 62, 390));
        let a = VatTreatment::ReverseCharge.amounts(225);
        assert_eq!((a.net, a.tax, a.total), (225, 0, 225));
    }

    #[test]
    fn reverse_charge_prints_the_note_and_both_vat_ids() {
        let items = [PayoutItem {
            vendor_order_id: VendorOrderId::new(),
            order_id: OrderId::new(),
            commission: 225,
        }];
        let shop = legal("DE", Some("DE123456789"));
        let vendor = legal("AT", Some("ATU12345678"));
        let p = print(
            &shop,
            Some(&vendor),
            "v",
            &items,
            VatTreatment::ReverseCharge,
        );
        assert_eq!(p.notes, [REVERSE_CHARGE]);
        assert_eq!(p.seller.tax_id.as_deref(), Some("DE123456789"));
        assert_eq!(p.buyer.unwrap().tax_id.as_deref(), Some("ATU12345678"));
        assert_eq!(p.lines[0].tax_rate, "0");
    }
}
