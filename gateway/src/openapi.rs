//! The platform's OpenAPI document: every service's paths merged, served at
//! `/api/openapi.json` and committed as `docs/openapi.json` (CI checks for drift).

use mercato_kernel::problem::PROBLEM_JSON;
use utoipa::OpenApi;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{Content, Ref, RefOr, Response};

#[derive(OpenApi)]
#[openapi(
    info(title = "Mercato API", description = "Multi-tenant marketplace platform. Shop endpoints are served on each shop's domain; `/api/v1/admin` on the platform host. Errors are RFC 9457 problem documents."),
    components(schemas(mercato_kernel::problem::ProblemBody, mercato_kernel::FieldError)),
    tags((name = "platform", description = "Platform administration (platform host)"),
         (name = "shop", description = "A shop, on its own domain"),
         (name = "auth", description = "Accounts and sessions, on a shop's domain or the platform host"))
)]
struct PlatformDoc;

pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = PlatformDoc::openapi();
    doc.merge(mercato_tenants::ApiDoc::openapi());
    doc.merge(mercato_identity::ApiDoc::openapi());
    doc.merge(mercato_vendors::ApiDoc::openapi());
    doc.merge(mercato_catalog::ApiDoc::openapi());
    doc.merge(mercato_inventory::ApiDoc::openapi());
    doc.merge(mercato_orders::ApiDoc::openapi());
    doc.merge(mercato_accounting::ApiDoc::openapi());
    doc.merge(mercato_payouts::ApiDoc::openapi());
    declare_common_problems(&mut doc);
    declare_problem_codes(&mut doc);
    doc
}

/// Every problem code the platform declares (the kernel's, each service's, the gateway's and
/// object storage's), in one list.
pub fn problem_codes() -> Vec<mercato_kernel::problem::DeclaredCode> {
    [
        mercato_kernel::Common::DECLARED,
        crate::problems::GatewayProblem::DECLARED,
        mercato_storage::problems::StorageProblem::DECLARED,
        mercato_tenants::problems::TenantsProblem::DECLARED,
        mercato_identity::problems::IdentityProblem::DECLARED,
        mercato_vendors::problems::VendorsProblem::DECLARED,
        mercato_catalog::problems::CatalogProblem::DECLARED,
        mercato_inventory::problems::InventoryProblem::DECLARED,
        mercato_orders::problems::OrdersProblem::DECLARED,
        mercato_accounting::problems::AccountingProblem::DECLARED,
        mercato_payouts::http::PayoutsProblem::DECLARED,
    ]
    .concat()
}

/// `ProblemBody.code` names the `ProblemCode` schema: the enum of every declared code, with a
/// table of each one's status, title and owner.
fn declare_problem_codes(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
    let mut declared = problem_codes();
    declared.sort_by_key(|d| (d.code, d.status, d.owner));
    declared.dedup();
    let mut codes: Vec<&str> = declared.iter().map(|d| d.code).collect();
    codes.dedup();
    let mut table = String::from(
        "Stable, machine-readable code. Every code the platform gives:\n\n\
         | code | status | title | given by |\n|---|---|---|---|\n",
    );
    for d in &declared {
        table.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            d.code, d.status, d.title, d.owner
        ));
    }
    let schema = ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(codes))
        .description(Some(table))
        .build();
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    components
        .schemas
        .insert("ProblemCode".to_owned(), RefOr::T(Schema::Object(schema)));
    if let Some(RefOr::T(Schema::Object(body))) = components.schemas.get_mut("ProblemBody") {
        body.properties.insert(
            "code".to_owned(),
            RefOr::Ref(Ref::from_schema_name("ProblemCode")),
        );
    }
}

/// Problem responses that come from the layers every operation passes through (the gateway,
/// the signed context, the JSON and query extractors), declared here once instead of in each
/// handler's annotation. A handler declares only the problems its own logic gives (403, 409,
/// a 404 for a thing it looks up, a 422 with its own field rules); a declaration there wins
/// over the generic one here. Every error response is `application/problem+json`.
fn declare_common_problems(doc: &mut utoipa::openapi::OpenApi) {
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            declare_operation_problems(operation);
        }
    }
}

fn declare_operation_problems(operation: &mut Operation) {
    let has_query = operation
        .parameters
        .iter()
        .flatten()
        .any(|p| matches!(p, RefOr::T(p) if matches!(p.parameter_in, ParameterIn::Query)));
    let has_body = operation.request_body.is_some();
    let mut common = vec![
        (
            401,
            "The bearer token or API key is not valid (malformed, expired, revoked or for another shop)",
        ),
        (
            404,
            "Not found: no shop answers at this host, or the path names nothing the caller can see",
        ),
        (
            429,
            "Too many requests (the client's or the shop's rate limit, or sign-in back-off); see Retry-After",
        ),
        (
            400,
            "Bad request: no Host header, a path the gateway refuses (`invalid_path`), a body that is not JSON, or a query string that cannot be read",
        ),
        (
            502,
            "Bad gateway: the service behind the gateway did not answer (`upstream_unavailable`, split shape)",
        ),
        (
            503,
            "Unavailable: the shop is suspended, or the service is busy or not ready",
        ),
    ];
    if has_query || has_body {
        common.push((
            422,
            "Validation failed; `errors` names each bad field by JSON path",
        ));
    }
    if has_body {
        common.push((413, "The body is larger than this operation accepts"));
        common.push((
            415,
            "The body is not of a content type this operation accepts",
        ));
    }
    let responses = &mut operation.responses.responses;
    for (status, description) in common {
        responses
            .entry(status.to_string())
            .or_insert_with(|| RefOr::T(Response::new(description)));
    }
    for (status, response) in responses.iter_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        if status.as_str() >= "400" && response.content.is_empty() {
            response.content.insert(
                PROBLEM_JSON.to_owned(),
                RefOr::T(Content::new(Some(Ref::from_schema_name("ProblemBody")))),
            );
        }
        if status == "429" && !response.headers.contains_key("Retry-After") {
            response.headers.insert(
                "Retry-After".to_owned(),
                RefOr::T(
                    utoipa::openapi::HeaderBuilder::new()
                        .schema(Some(
                            utoipa::openapi::ObjectBuilder::new()
                                .schema_type(utoipa::openapi::schema::Type::Integer),
                        ))
                        .description(Some("Seconds to wait before retrying"))
                        .build(),
                ),
            );
        }
    }
}

pub async fn serve() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(document())
}

/// A small, self-contained reference page over `/api/openapi.json` (no external assets, so
/// it works offline): each path with its methods, summary, parameters and responses.
pub async fn docs_page() -> axum::response::Html<&'static str> {
    axum::response::Html(DOCS_PAGE)
}

const DOCS_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Mercato API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#1b1f24}
h1{margin-bottom:.2rem} .op{border:1px solid #d0d7de;border-radius:6px;margin:.6rem 0;padding:.5rem .8rem}
.m{display:inline-block;min-width:4.5rem;font-weight:600;text-transform:uppercase}
.get{color:#0969da}.post{color:#1a7f37}.patch{color:#9a6700}.delete{color:#cf222e}
code{background:#f6f8fa;padding:0 .3rem;border-radius:4px} small{color:#57606a}
</style></head><body>
<h1>Mercato API</h1><p id="about"></p><p><a href="/api/openapi.json">openapi.json</a></p><div id="ops">Loading…</div>
<script>
fetch('/api/openapi.json').then(r => r.json()).then(doc => {
  document.getElementById('about').textContent = doc.info.description || '';
  const ops = document.getElementById('ops'); ops.textContent = '';
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const div = document.createElement('div'); div.className = 'op';
      const params = (op.parameters || []).map(p => p.name).join(', ');
      const codes = Object.keys(op.responses || {}).join(' ');
      div.innerHTML = `<span class="m ${method}">${method}</span><code></code> <small></small>` +
        `<div><small>${params ? 'parameters: ' + params + ' · ' : ''}responses: ${codes}</small></div>`;
      div.querySelector('code').textContent = path;
      div.querySelectorAll('small')[0].textContent = (op.tags || []).join(', ') + (op.summary ? ' — ' + op.summary : '');
      ops.appendChild(div);
    }
  }
});
</script></body></html>"#;
