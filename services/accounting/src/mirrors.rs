//! What accounting copies from other services for its commission invoices (ADR 0043), with
//! the platform's one mirror mechanism (`mercato_events::Mirrored`): vendors' legal details
//! from `vendor.*` ([`VENDOR_LEGAL_MIRROR`]) and the shop's tax rates from orders'
//! `tax_rate.*` ([`TAX_RATE_MIRROR`]). Both backfill with `mercato events republish
//! vendors` and `… orders`.

use crate::repo::legal::{self, MirroredTaxRate, VendorLegal};
use mercato_db::Db;
use mercato_events::{
    Envelope, HandlerError, Mirror, MirrorChange, MirrorTable, Mirrored, Subscription,
};
use mercato_orders_api::events::{TAX_RATE_EVENTS, TaxRateChanged};
use mercato_vendors_api::vendor::{self, VENDOR_EVENTS, VendorSnapshot};

pub const VENDOR_LEGAL_MIRROR: &str = "accounting-vendors";
pub const TAX_RATE_MIRROR: &str = "accounting-tax-rates";

/// The mirrors' subscriptions.
pub fn subscriptions(db: &Db) -> Vec<Subscription> {
    vec![
        Mirrored::new(VENDOR_LEGAL_MIRROR, db.clone(), VendorLegalMirror)
            .subscribe(&[VENDOR_EVENTS]),
        Mirrored::new(TAX_RATE_MIRROR, db.clone(), TaxRateMirror).subscribe(&[TAX_RATE_EVENTS]),
    ]
}

/// `vendor.*` into `vendor_legal`: the legal name, address, country and VAT id. An event
/// from before vendors published them changes nothing.
pub struct VendorLegalMirror;

impl Mirror for VendorLegalMirror {
    type Event = VendorSnapshot;
    type Row = VendorLegal;
    type Before = ();
    const TABLE: MirrorTable = legal::VENDOR_LEGAL;

    fn wants(&self, event: &Envelope) -> bool {
        vendor::carries_snapshot(&event.name)
    }

    fn change(
        &self,
        _: &Envelope,
        v: VendorSnapshot,
    ) -> Result<MirrorChange<VendorLegal>, HandlerError> {
        Ok(MirrorChange::rows(
            v.legal
                .map(|legal| VendorLegal {
                    vendor: v.vendor_id,
                    legal,
                })
                .into_iter()
                .collect(),
        ))
    }
}

/// `tax_rate.*` into `tax_rates`, a removed rate as a tombstone.
pub struct TaxRateMirror;

impl Mirror for TaxRateMirror {
    type Event = TaxRateChanged;
    type Row = MirroredTaxRate;
    type Before = ();
    const TABLE: MirrorTable = legal::TAX_RATES;

    fn change(
        &self,
        _: &Envelope,
        r: TaxRateChanged,
    ) -> Result<MirrorChange<MirroredTaxRate>, HandlerError> {
        Ok(MirrorChange::row(MirroredTaxRate {
            id: r.tax_rate_id.as_uuid(),
            country: r.country,
            category: r.category,
            rate: r.rate,
            deleted: r.deleted,
        }))
    }
}
