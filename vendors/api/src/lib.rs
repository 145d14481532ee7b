//! What the vendors service lets other crates depend on (ADR 0028): the vendor as others see
//! it and the payload of every `vendor.*` event ([`vendor`]), the pure commission rules and
//! quote ([`commission`]) that checkout uses to take commission per line, and the payloads of
//! the `commission_rule.*` events ([`events`]) as the vendors service publishes them and a
//! consumer reads them back. No database, no HTTP server, no I/O: a consumer depends on this
//! crate, never on `mercato-vendors` itself.

pub mod commission;
pub mod events;
pub mod payout;
pub mod vendor;
