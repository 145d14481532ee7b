//! What buyers, merchants, vendors and workers do with orders: check out, pay, take a
//! provider's word, review a held payment, expire, cancel, refund, return. The HTTP handlers
//! (`http`) and the job workers call these alike; these call the domain's rules (`domain`)
//! and storage (`repo`), never a handler.

pub mod access;
pub mod cancel;
pub mod checkout;
pub mod expiry;
pub mod invoice;
pub mod payment;
pub mod provider_balance;
pub mod quote;
pub mod records;
pub mod refunds;
pub mod returns;
pub mod review;
pub mod transitions;
