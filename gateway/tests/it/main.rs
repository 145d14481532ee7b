//! The platform's end-to-end suite: every story runs through the gateway by `Host` header,
//! on embedded backends and again on PostgreSQL, Redis and RabbitMQ when the
//! MERCATO_TEST_* variables name them.

#[cfg(test)]
mod admin_listener;
#[cfg(test)]
mod api_keys;
#[cfg(test)]
mod architecture;
#[cfg(test)]
mod catalog;
#[cfg(test)]
mod commission;
#[cfg(test)]
mod commission_invoices;
#[cfg(test)]
mod demo;
#[cfg(test)]
mod domains;
#[cfg(test)]
mod expenses;
#[cfg(test)]
mod guest_invoices;
#[cfg(test)]
mod identity;
#[cfg(test)]
mod input;
#[cfg(test)]
mod internal_paths;
#[cfg(test)]
mod inventory;
#[cfg(test)]
mod invoices;
#[cfg(test)]
mod isolation;
#[cfg(test)]
mod ledger;
#[cfg(test)]
mod leftovers;
#[cfg(test)]
mod limits;
#[cfg(test)]
mod media_links;
#[cfg(test)]
mod onboarding;
#[cfg(test)]
mod openapi;
#[cfg(test)]
mod orders;
#[cfg(test)]
mod password_reset;
#[cfg(test)]
mod payouts;
#[cfg(test)]
mod reconciliation;
#[cfg(test)]
mod republish;
#[cfg(test)]
mod retention;
#[cfg(test)]
mod rls;
#[cfg(test)]
mod search;
#[cfg(test)]
mod sessions;
#[cfg(test)]
mod shops;
#[cfg(test)]
mod staff;
#[cfg(test)]
mod support;
#[cfg(test)]
mod transfer_reversals;
#[cfg(test)]
mod vendor_staff;
#[cfg(test)]
mod vendors;
