//! The reconciliation of the payment provider's clearing account (1100) against the
//! provider's balance transactions (ADR 0045): both sides reduced to items of a kind and a
//! reference both know, summed per item, then compared.
//!
//! | kind | ledger (1100 lines of) | provider | reference |
//! |---|---|---|---|
//! | `charge` | sale entries | a charge's gross | the order |
//! | `fee` | payment fee entries | a charge's fee (negative) | the order |
//! | `refund` | refund entries | a refund | the refund |
//! | `transfer` | payout entries | a transfer | the payout |
//! | `other` | anything else (an expense paid from 1100) | an adjustment | the entry key / the transaction id |

use std::collections::BTreeMap;

/// One journal entry's movement of 1100 in the period (debits less credits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerMove {
    /// The entry's id (`jen_…`).
    pub entry: String,
    pub key: String,
    pub kind: String,
    /// `ord_…` of the entry's order, if it has one.
    pub order: Option<String>,
    pub amount: i64,
}

/// One of the provider's balance transactions in the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderMove {
    pub id: String,
    pub kind: String,
    pub reference: String,
    pub amount: i64,
    pub fee: i64,
}

/// One item of the reconciliation: what each side holds for it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Item {
    pub kind: &'static str,
    pub reference: String,
    /// The ledger's sum, `None` when the ledger has nothing for it.
    pub ledger: Option<i64>,
    pub provider: Option<i64>,
    pub ledger_entries: Vec<String>,
    pub provider_transactions: Vec<String>,
}

/// The items by how they compare.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reconciliation {
    pub matched: Vec<Item>,
    /// On both sides with different amounts.
    pub differences: Vec<Item>,
    pub only_in_ledger: Vec<Item>,
    pub only_at_provider: Vec<Item>,
    /// 1100's debits less credits in the period.
    pub ledger_movement: i64,
    /// The sum of the provider's net amounts in the period.
    pub provider_net: i64,
}

/// What a ledger entry is, for the reconciliation: its kind and the reference.
fn ledger_item(m: &LedgerMove) -> (&'static str, String) {
    let part = |n: usize| m.key.split(':').nth(n).unwrap_or_default().to_owned();
    match (m.kind.as_str(), &m.order) {
        ("sale", Some(order)) => ("charge", order.clone()),
        ("payment_fee", Some(order)) => ("fee", order.clone()),
        ("refund", _) => ("refund", part(1)),
        ("payout", _) => ("transfer", part(1)),
        _ => ("other", m.key.clone()),
    }
}

/// Compares `ledger` with `provider` (each of the same shop, currency and period).
pub fn reconcile(ledger: &[LedgerMove], provider: &[ProviderMove]) -> Reconciliation {
    let mut ledger_movement = 0i64;
    let mut provider_net = 0i64;
    let mut map: BTreeMap<(&'static str, String), Item> = BTreeMap::new();
    for m in ledger {
        ledger_movement += m.amount;
        let (kind, reference) = ledger_item(m);
        let item = map
            .entry((kind, reference.clone()))
            .or_insert_with(|| Item {
                kind,
                reference,
                ..Item::default()
            });
        item.ledger = Some(item.ledger.unwrap_or(0) + m.amount);
        item.ledger_entries.push(m.entry.clone());
    }
    for t in provider {
        provider_net += t.amount - t.fee;
        let mut put = |kind: &'static str, reference: String, amount: i64| {
            let item = map
                .entry((kind, reference.clone()))
                .or_insert_with(|| Item {
                    kind,
                    reference,
                    ..Item::default()
                });
            item.provider = Some(item.provider.unwrap_or(0) + amount);
            if !item.provider_transactions.contains(&t.id) {
                item.provider_transactions.push(t.id.clone());
            }
        };
        let reference = if t.reference.is_empty() {
            t.id.clone()
        } else {
            t.reference.clone()
        };
        match t.kind.as_str() {
            "charge" => {
                put("charge", reference.clone(), t.amount);
                if t.fee != 0 {
                    put("fee", reference, -t.fee);
                }
            }
            "refund" => put("refund", reference, t.amount - t.fee),
            "transfer" => put("transfer", reference, t.amount - t.fee),
            _ => put("other", t.id.clone(), t.amount - t.fee),
        }
    }
    let mut out = Reconciliation {
        ledger_movement,
        provider_net,
        ..Reconciliation::default()
    };
    for (_, item) in map {
        match (item.ledger, item.provider) {
            (Some(l), Some(p)) if l == p => out.matched.push(item),
            (Some(_), Some(_)) => out.differences.push(item),
            (Some(_), None) => out.only_in_ledger.push(item),
            _ => out.only_at_provider.push(item),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sale(entry: &str, order: &str, amount: i64) -> LedgerMove {
        LedgerMove {
            entry: entry.into(),
            key: format!("sale:vor_{entry}"),
            kind: "sale".into(),
            order: Some(order.into()),
            amount,
        }
    }

    #[test]
    fn a_paid_order_with_its_fee_and_a_refund_match() {
        let ledger = vec![
            sale("1", "ord_a", 6_000),
            sale("2", "ord_a", 4_000),
            LedgerMove {
                entry: "3".into(),
                key: "fee:pay_x".into(),
                kind: "payment_fee".into(),
                order: Some("ord_a".into()),
                amount: -175,
            },
            LedgerMove {
                entry: "4".into(),
                key: "refund:rfd_r:vor_1".into(),
                kind: "refund".into(),
                order: Some("ord_a".into()),
                amount: -1_000,
            },
        ];
        let provider = vec![
            ProviderMove {
                id: "txn_1".into(),
                kind: "charge".into(),
                reference: "ord_a".into(),
                amount: 10_000,
                fee: 175,
            },
            ProviderMove {
                id: "txn_2".into(),
                kind: "refund".into(),
                reference: "rfd_r".into(),
                amount: -1_000,
                fee: 0,
            },
        ];
        let r = reconcile(&ledger, &provider);
        assert_eq!(r.matched.len(), 3, "{r:?}");
        assert!(r.differences.is_empty() && r.only_in_ledger.is_empty());
        assert!(r.only_at_provider.is_empty());
        assert_eq!(r.ledger_movement, 10_000 - 175 - 1_000);
        assert_eq!(r.provider_net, r.ledger_movement);
    }

    #[test]
    fn what_one_side_lacks_or_differs_is_reported() {
        let ledger = vec![sale("1", "ord_a", 5_000), sale("2", "ord_b", 700)];
        let provider = vec![
            ProviderMove {
                id: "txn_1".into(),
                kind: "charge".into(),
                reference: "ord_a".into(),
                amount: 5_001,
                fee: 0,
            },
            ProviderMove {
                id: "txn_9".into(),
                kind: "adjustment".into(),
                reference: String::new(),
                amount: -300,
                fee: 0,
            },
        ];
        let r = reconcile(&ledger, &provider);
        assert_eq!(r.differences.len(), 1);
        assert_eq!(r.differences[0].reference, "ord_a");
        assert_eq!(r.only_in_ledger[0].reference, "ord_b");
        assert_eq!(r.only_at_provider[0].reference, "txn_9");
        assert_eq!(r.only_at_provider[0].provider, Some(-300));
    }
}
