//! Proving ownership of a domain: the verification job looks for the token at
//! `_mercato-verify.<host>` (answered here by `FakeDns`), retries while it is missing, gives
//! up after the configured attempts, can be asked again, and lets one shop at most own a
//! verified host name.

use crate::on_every_backend;
use crate::support::{MAX_CHECKS, Service, Shop, unique_host};

/// No record yet: the check is recorded (time and reason) and the domain stays pending and
/// unrouted. Once the token is published (beside other TXT records) the next check
/// verifies it, announces it, and the host resolves to the shop.
async fn a_published_token_verifies_the_domain(s: Service) {
    let shop = s.open_shop("growth").await;
    let hostname = unique_host("www-");
    let added = s.added_domain(&shop, &hostname).await;
    let id = added.str("id");

    assert!(s.check_domains_once().await);
    let checked = s.domain(&shop, &id).await;
    assert_eq!(checked.str("status"), "pending", "{}", checked.body);
    assert!(
        !checked.body["last_checked_at"].is_null(),
        "{}",
        checked.body
    );
    assert_eq!(
        checked.str("last_error"),
        format!("no TXT record found at _mercato-verify.{hostname}")
    );
    assert!(checked.body["verified_at"].is_null());
    assert_eq!(s.resolved_shop(&hostname).await, None);

    s.publish_token(&added);
    assert_eq!(s.check_domains().await, 1);
    let verified = s.domain(&shop, &id).await;
    assert_eq!(verified.str("status"), "verified", "{}", verified.body);
    assert!(verified.body["last_error"].is_null(), "{}", verified.body);
    assert!(!verified.body["verified_at"].is_null(), "{}", verified.body);
    assert_eq!(s.resolved_shop(&hostname).await, Some(shop.id));
    assert_eq!(
        s.event_names(shop.id).await,
        ["shop.created", "domain.added", "domain.verified"]
    );

    // Asking again for a verified domain changes nothing and schedules nothing.
    let again = s
        .call(
            &shop.owner,
            "POST",
            &format!("/api/v1/shop/domains/{id}/verify"),
            None,
        )
        .await;
    assert_eq!(again.status, 202, "{}", again.body);
    assert_eq!(again.str("status"), "verified");
    assert!(!s.check_domains_once().await, "no check was scheduled");
}

/// A record without the token never verifies: after the configured number of checks the
/// domain is failed (and announced so), and stays unrouted. After the merchant fixes the
/// record and asks for a new check, it verifies.
async fn checks_give_up_then_can_be_asked_again(s: Service) {
    let shop = s.open_shop("growth").await;
    let hostname = unique_host("shop-");
    let added = s.added_domain(&shop, &hostname).await;
    let id = added.str("id");
    let record = format!("_mercato-verify.{hostname}");
    s.dns.set_txt(&record, &["mercato-verify=wrong"]);

    assert_eq!(s.check_domains().await, MAX_CHECKS as usize);
    let failed = s.domain(&shop, &id).await;
    assert_eq!(failed.str("status"), "failed", "{}", failed.body);
    assert_eq!(
        failed.str("last_error"),
        format!("the TXT record at {record} does not contain the token")
    );
    assert_eq!(s.resolved_shop(&hostname).await, None);
    assert_eq!(
        s.event_names(shop.id).await,
        ["shop.created", "domain.added", "domain.failed"]
    );

    s.publish_token(&added);
    let again = s
        .call(
            &shop.owner,
            "POST",
            &format!("/api/v1/shop/domains/{id}/verify"),
            None,
        )
        .await;
    assert_eq!(again.status, 202, "{}", again.body);
    assert_eq!(again.str("status"), "pending");
    assert_eq!(s.domain(&shop, &id).await.str("status"), "pending");
    assert_eq!(s.check_domains().await, 1);
    assert_eq!(s.domain(&shop, &id).await.str("status"), "verified");
    assert_eq!(s.resolved_shop(&hostname).await, Some(shop.id));
}

/// A resolver that cannot answer (timeout, SERVFAIL) is a reason to retry, recorded as
/// such, not a verdict on the domain.
async fn a_resolver_failure_is_retried(s: Service) {
    let shop = s.open_shop("growth").await;
    let hostname = unique_host("shop-");
    let added = s.added_domain(&shop, &hostname).await;
    let record = format!("_mercato-verify.{hostname}");
    s.dns.break_name(&record);

    assert!(s.check_domains_once().await);
    let checked = s.domain(&shop, &added.str("id")).await;
    assert_eq!(checked.str("status"), "pending", "{}", checked.body);
    assert_eq!(
        checked.str("last_error"),
        format!("dns lookup of {record} failed: SERVFAIL")
    );

    s.publish_token(&added);
    assert_eq!(s.check_domains().await, 1);
    assert_eq!(
        s.domain(&shop, &added.str("id")).await.str("status"),
        "verified"
    );
}

/// Which of the claims on one host name are verified (their indexes), and the others'
/// (index, status, last error).
async fn owners(
    s: &Service,
    claims: &[(&Shop, String)],
) -> (Vec<usize>, Vec<(usize, String, String)>) {
    let mut verified = Vec::new();
    let mut other = Vec::new();
    for (i, (shop, id)) in claims.iter().enumerate() {
        let d = s.domain(shop, id).await;
        if d.str("status") == "verified" {
            verified.push(i);
        } else {
            other.push((i, d.str("status"), d.str("last_error")));
        }
    }
    (verified, other)
}

/// Two shops may claim the same host name while pending, and both may publish their token;
/// only one is verified, the other fails saying why. A third shop cannot even add it. When
/// the owner removes it, the other shop can have it verified.
async fn a_verified_domain_belongs_to_one_shop(s: Service) {
    let a = s.open_shop("growth").await;
    let b = s.open_shop("growth").await;
    let hostname = unique_host("www-");
    let a_domain = s.added_domain(&a, &hostname).await;
    let b_domain = s.added_domain(&b, &hostname).await;
    let record = format!("_mercato-verify.{hostname}");
    let token = |d: &crate::support::Reply| {
        d.body["verification"]["value"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let (a_token, b_token) = (token(&a_domain), token(&b_domain));
    s.dns.set_txt(&record, &[&a_token, &b_token]);

    s.check_domains().await;
    let claims = [(&a, a_domain.str("id")), (&b, b_domain.str("id"))];
    let (verified, others) = owners(&s, &claims).await;
    assert_eq!(verified.len(), 1, "exactly one owner: {others:?}");
    let (winner, winner_domain) = (&claims[verified[0]].0, &claims[verified[0]].1);
    let (loser_index, status, error) = others[0].clone();
    let (loser, loser_domain) = (&claims[loser_index].0, &claims[loser_index].1);
    assert_eq!(status, "failed");
    assert_eq!(error, "this domain is already verified by another shop");
    assert_eq!(s.resolved_shop(&hostname).await, Some(winner.id));
    assert_eq!(
        s.event_names(loser.id).await,
        ["shop.created", "domain.added", "domain.failed"]
    );

    // A third shop is told at once, and nothing is stored for it.
    let c = s.open_shop("growth").await;
    for written in [hostname.clone(), format!("{}.", hostname.to_uppercase())] {
        let taken = s.add_domain(&c.owner, &written).await;
        assert_eq!(taken.status, 409, "{}", taken.body);
        assert_eq!(taken.code(), "domain_taken");
    }
    assert_eq!(s.hostnames(&c).await, Vec::<String>::new());
    assert_eq!(s.event_names(c.id).await, ["shop.created"]);

    // Asking again does not change the verdict while the owner keeps it.
    let verify = format!("/api/v1/shop/domains/{loser_domain}/verify");
    let again = s.call(&loser.owner, "POST", &verify, None).await;
    assert_eq!(again.status, 202, "{}", again.body);
    s.check_domains().await;
    assert_eq!(s.domain(loser, loser_domain).await.str("status"), "failed");
    assert_eq!(s.resolved_shop(&hostname).await, Some(winner.id));

    // Removed by its owner: unrouted, and free for the other claim.
    let removed = s
        .delete(
            &winner.owner,
            &format!("/api/v1/shop/domains/{winner_domain}"),
        )
        .await;
    assert_eq!(removed.status, 204, "{}", removed.body);
    assert_eq!(s.resolved_shop(&hostname).await, None);
    assert_eq!(
        s.event_names(winner.id).await.last().map(String::as_str),
        Some("domain.removed")
    );
    let again = s.call(&loser.owner, "POST", &verify, None).await;
    assert_eq!(again.status, 202, "{}", again.body);
    s.check_domains().await;
    assert_eq!(
        s.domain(loser, loser_domain).await.str("status"),
        "verified"
    );
    assert_eq!(s.resolved_shop(&hostname).await, Some(loser.id));
}

on_every_backend!(
    a_published_token_verifies_the_domain,
    checks_give_up_then_can_be_asked_again,
    a_resolver_failure_is_retried,
    a_verified_domain_belongs_to_one_shop,
);
