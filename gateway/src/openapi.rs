//! The platform's OpenAPI document: every service's paths merged, served at
//! `/api/openapi.json` and committed as `docs/openapi.json` (CI checks for drift).

use utoipa::OpenApi;

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
    doc
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
