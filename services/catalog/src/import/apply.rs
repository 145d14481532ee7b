//! Applying one chunk of product groups: the rules that need the database (whose slug,
//! whose SKU, which category and attributes exist, the plan's limit), then the writes in
//! batches. A column absent from the file leaves its field as it is; a column present but
//! empty clears it. In a shop that moderates listings, a vendor's file that changes what
//! shoppers see of an active product sends it back to review, as an edit through the API
//! does ([`Product::after_edit`]).

use crate::domain::csv_file::{Group, Header, ProductFields, RowError, parse_product};
use crate::domain::product::{Edit, Seo, Side};
use crate::domain::variant::{VariantClash, check_together};
use crate::domain::{Attribute, Product, ProductAction, ProductStatus, Variant, VendorMirror};
use crate::repo::imports::Import;
use crate::repo::{self};
use mercato_db::{Db, TenantTx};
use mercato_tenant_context::{CategoryId, ProductId, TenantId, VendorId};
use sea_orm::DbErr;
use std::collections::{BTreeMap, HashMap};

/// What a run knows before its first chunk.
pub(super) struct Context {
    /// A vendor's import: every row is this vendor's.
    vendor: Option<VendorId>,
    side: Side,
    require_approval: bool,
    product_limit: i64,
    /// Products in the shop now, counting those this run created.
    products_now: i64,
    attributes: HashMap<String, Attribute>,
    categories: HashMap<String, CategoryId>,
    vendors: HashMap<VendorId, Option<VendorMirror>>,
    header: Header,
    /// Why the run cannot go on at all (a vendor's import for a vendor now suspended).
    pub(super) blocked: Option<String>,
}

impl Context {
    pub(super) async fn load(
        db: &Db,
        tenant: TenantId,
        import: &Import,
        header: &Header,
    ) -> Result<Self, DbErr> {
        let tx = db.tenant_read(tenant).await?;
        let settings = repo::settings::get(&tx).await?;
        let attributes = repo::attributes::all(&tx)
            .await?
            .into_iter()
            .map(|a| (a.code.clone(), a))
            .collect();
        let categories = repo::categories::all(&tx)
            .await?
            .into_iter()
            .map(|c| (c.slug, c.id))
            .collect();
        let products_now = i64::try_from(repo::products::count(&tx).await?).unwrap_or(i64::MAX);
        let blocked = match import.vendor {
            None => None,
            Some(vendor) => match repo::vendors::find(&tx, vendor).await? {
                Some(v) if v.may_list() => None,
                Some(_) => {
                    Some("the vendor is rejected or suspended and may not list products".to_owned())
                }
                None => Some("the vendor is not known to the catalog".to_owned()),
            },
        };
        Ok(Self {
            vendor: import.vendor,
            side: if import.as_merchant {
                Side::Merchant
            } else {
                Side::Vendor
            },
            require_approval: settings.require_listing_approval,
            product_limit: import.product_limit,
            products_now,
            attributes,
            categories,
            vendors: HashMap::new(),
            header: header.clone(),
            blocked,
        })
    }
}

/// What one chunk did.
#[derive(Debug, Default)]
pub(super) struct Outcome {
    pub rows: i64,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub failed: i64,
    pub errors: Vec<RowError>,
    /// Products whose `product.changed` is due.
    pub changed: Vec<ProductId>,
}

/// What is already stored about the chunk's products and SKUs.
struct Existing {
    products: HashMap<String, Product>,
    variants: HashMap<ProductId, Vec<Variant>>,
    attributes: HashMap<ProductId, Vec<(String, String)>>,
    by_sku: HashMap<String, Variant>,
}

/// The writes one chunk makes.
#[derive(Default)]
struct Writes {
    new_products: Vec<Product>,
    changed_products: Vec<Product>,
    new_variants: Vec<Variant>,
    changed_variants: Vec<Variant>,
    attributes: Vec<(ProductId, Vec<(String, String)>)>,
}

pub(super) async fn chunk(
    tx: &TenantTx,
    ctx: &mut Context,
    groups: &[Group],
) -> Result<Outcome, DbErr> {
    let existing = load_existing(tx, groups).await?;
    let wanted: Vec<VendorId> = groups
        .iter()
        .filter_map(|g| g.rows[0].product_cells.get("vendor_id"))
        .filter_map(|text| text.parse().ok())
        .chain(ctx.vendor)
        .filter(|v| !ctx.vendors.contains_key(v))
        .collect();
    if !wanted.is_empty() {
        let found = repo::vendors::find_many(tx, &wanted).await?;
        for id in wanted {
            let vendor = found.iter().find(|v| v.id == id).cloned();
            ctx.vendors.insert(id, vendor);
        }
    }
    let now = crate::domain::now();
    let mut outcome = Outcome::default();
    let mut writes = Writes::default();
    for group in groups {
        outcome.rows += group.rows.len() as i64;
        plan_group(ctx, group, &existing, now, &mut outcome, &mut writes);
    }
    repo::products::insert_many(tx, &writes.new_products).await?;
    for product in &writes.changed_products {
        repo::products::update(tx, product).await?;
    }
    repo::variants::insert_many(tx, &writes.new_variants).await?;
    for variant in &writes.changed_variants {
        repo::variants::update(tx, variant).await?;
    }
    if !writes.attributes.is_empty() {
        repo::attributes::replace_values(tx, &writes.attributes).await?;
    }
    Ok(outcome)
}

async fn load_existing(tx: &TenantTx, groups: &[Group]) -> Result<Existing, DbErr> {
    let slugs: Vec<String> = groups.iter().map(|g| g.slug.clone()).collect();
    // Locked, as every change that may move a product's status reads it (an approval of the
    // same product waits for this chunk, or this chunk for it).
    let products: HashMap<String, Product> = repo::products::find_by_slugs_to_change(tx, &slugs)
        .await?
        .into_iter()
        .map(|p| (p.slug.clone(), p))
        .collect();
    let ids: Vec<ProductId> = products.values().map(|p| p.id).collect();
    let mut variants: HashMap<ProductId, Vec<Variant>> = HashMap::new();
    for v in repo::variants::of_products(tx, &ids).await? {
        variants.entry(v.product).or_default().push(v);
    }
    let mut attributes: HashMap<ProductId, Vec<(String, String)>> = HashMap::new();
    for (product, code, value) in repo::attributes::values_of(tx, &ids).await? {
        attributes.entry(product).or_default().push((code, value));
    }
    let skus: Vec<String> = groups
        .iter()
        .flat_map(|g| &g.rows)
        .filter_map(|r| r.variant.as_ref().map(|v| v.sku.clone()))
        .collect();
    let by_sku = repo::variants::find_by_skus(tx, &skus)
        .await?
        .into_iter()
        .map(|v| (v.sku.clone(), v))
        .collect();
    Ok(Existing {
        products,
        variants,
        attributes,
        by_sku,
    })
}

/// Fails a whole group: its rows' own errors, the product-level ones, and a note on every
/// other row that it was not imported because of them.
fn fail_group(group: &Group, product_errors: Vec<RowError>, outcome: &mut Outcome) {
    let first = group.rows[0].number;
    for row in &group.rows {
        outcome.errors.extend(row.errors.iter().cloned());
    }
    let noted: Vec<u64> = product_errors.iter().map(|e| e.row).collect();
    outcome.errors.extend(product_errors);
    for row in &group.rows {
        if row.errors.is_empty() && !noted.contains(&row.number) {
            outcome.errors.push(RowError::new(
                row.number,
                "product_slug",
                format!("not imported: the product has errors on row {first}"),
            ));
        }
    }
    outcome.failed += group.rows.len() as i64;
}

fn plan_group(
    ctx: &mut Context,
    group: &Group,
    existing: &Existing,
    now: chrono::DateTime<chrono::Utc>,
    outcome: &mut Outcome,
    writes: &mut Writes,
) {
    let first = &group.rows[0];
    if crate::domain::check_slug(&group.slug).is_err() {
        // Each row already names its bad slug.
        return fail_group(group, Vec::new(), outcome);
    }
    let fields = match parse_product(&first.product_cells, first.number) {
        Ok(fields) => fields,
        Err(errors) => return fail_group(group, errors, outcome),
    };
    let stored = existing.products.get(&group.slug);
    let (product, attributes) =
        match product_from(ctx, &fields, &group.slug, first.number, stored, now) {
            Ok(found) => found,
            Err(errors) => return fail_group(group, errors, outcome),
        };
    let mut product = product;
    let others: Vec<&Variant> = stored
        .map(|p| {
            existing
                .variants
                .get(&p.id)
                .map(|vs| {
                    vs.iter()
                        .filter(|v| {
                            !group
                                .rows
                                .iter()
                                .any(|r| r.variant.as_ref().is_some_and(|f| f.sku == v.sku))
                        })
                        .collect()
                })
                .unwrap_or_default()
        })
        .unwrap_or_default();
    if let Some(other) = others.iter().find(|v| {
        v.options.len() != product.option_types.len()
            || !product
                .option_types
                .iter()
                .all(|t| v.options.contains_key(t))
    }) {
        return fail_group(
            group,
            vec![RowError::new(
                first.number,
                "option1_name",
                format!(
                    "the product's variant {} (not in this file) uses other option types",
                    other.sku
                ),
            )],
            outcome,
        );
    }

    // The variants of the file's rows.
    let mut accepted: Vec<(u64, Variant, RowKind)> = Vec::new();
    let mut next_position = others.iter().map(|v| v.position).max().unwrap_or(-1) + 1;
    for row in &group.rows {
        outcome.errors.extend(row.errors.iter().cloned());
        let Some(fields) = row.variant.as_ref().filter(|_| row.errors.is_empty()) else {
            outcome.failed += 1;
            continue;
        };
        let mut errors = Vec::new();
        let stored_variant = existing.by_sku.get(&fields.sku);
        if let Some(v) = stored_variant
            && stored.is_none_or(|p| p.id != v.product)
        {
            errors.push(RowError::new(
                row.number,
                "sku",
                "another product of this shop has this SKU",
            ));
        }
        let mut options = BTreeMap::new();
        for (i, value) in fields.option_values.iter().enumerate() {
            let column = ["option1_value", "option2_value", "option3_value"][i];
            match (product.option_types.get(i), value) {
                (Some(name), Some(value)) => {
                    options.insert(name.clone(), value.clone());
                }
                (Some(name), None) => errors.push(RowError::new(
                    row.number,
                    column,
                    format!("required: the product's option `{name}`"),
                )),
                (None, Some(_)) => errors.push(RowError::new(
                    row.number,
                    column,
                    format!("the product has no option {}", i + 1),
                )),
                (None, None) => {}
            }
        }
        let variant = Variant {
            id: stored_variant.map_or_else(mercato_tenant_context::VariantId::new, |v| v.id),
            product: product.id,
            sku: fields.sku.clone(),
            title: stored_variant.and_then(|v| v.title.clone()),
            options,
            price: fields.price,
            compare_at: fields.compare_at,
            weight_grams: fields.weight_grams,
            dimensions: fields.dimensions,
            barcode: fields.barcode.clone(),
            position: stored_variant.map_or(next_position, |v| v.position),
            created_at: stored_variant.map_or(now, |v| v.created_at),
            updated_at: now,
        };
        if errors.is_empty() {
            let together = others
                .iter()
                .map(|v| (&v.price, &v.options))
                .chain(accepted.iter().map(|(_, v, _)| (&v.price, &v.options)))
                .chain(std::iter::once((&variant.price, &variant.options)));
            if let Err((_, clash)) = check_together(together, None) {
                let column = match clash {
                    VariantClash::Currency(_) => "currency",
                    VariantClash::SameOptions => "option1_value",
                    VariantClash::NoOptionTypes => "option1_name",
                };
                errors.push(RowError::new(row.number, column, clash.message()));
            }
        }
        if !errors.is_empty() {
            outcome.failed += 1;
            outcome.errors.extend(errors);
            continue;
        }
        let kind = match stored_variant {
            None => {
                next_position += 1;
                RowKind::Created
            }
            Some(v) if v.same_content(&variant) => RowKind::Unchanged,
            Some(_) => RowKind::Updated,
        };
        accepted.push((row.number, variant, kind));
    }
    if accepted.is_empty() {
        return;
    }

    // The product as a whole: status, currency, lowest price.
    if fields.publish
        && matches!(
            product.status,
            ProductStatus::Draft | ProductStatus::Rejected
        )
        && let Some(to) =
            ProductAction::Publish.target(product.status, ctx.side, ctx.require_approval)
    {
        product.status = to;
        product.status_reason = None;
    }
    let prices = others
        .iter()
        .map(|v| v.price)
        .chain(accepted.iter().map(|(_, v, _)| v.price));
    product.min_price = prices.clone().map(|p| p.amount).min().unwrap_or(0);
    product.currency = prices.map(|p| p.currency).next();
    let is_new = stored.is_none();
    let stored_attributes = stored
        .and_then(|p| existing.attributes.get(&p.id))
        .cloned()
        .unwrap_or_default();
    let attributes_changed = attributes.as_ref().is_some_and(|a| *a != stored_attributes);
    // A vendor's file is an edit like any other: when it changes what shoppers see of an
    // approved product, the product goes back to review (in a shop that moderates listings).
    let variants_shown = accepted.iter().any(|(_, variant, kind)| match kind {
        RowKind::Created => true,
        RowKind::Updated => existing
            .by_sku
            .get(&variant.sku)
            .is_none_or(|stored| stored.shown_differs(variant)),
        RowKind::Unchanged => false,
    });
    let shown = attributes_changed
        || variants_shown
        || stored.is_some_and(|stored| stored.shown_differs(&product));
    product.after_edit(Edit::shown_if(shown), ctx.side, ctx.require_approval);
    let product_changed = stored.is_none_or(|p| *p != product);
    let variants_changed = accepted.iter().any(|(_, _, k)| *k != RowKind::Unchanged);
    if product_changed || attributes_changed || variants_changed {
        product.updated_at = now;
        outcome.changed.push(product.id);
    }
    for (_, variant, kind) in accepted {
        match kind {
            RowKind::Created => {
                outcome.created += 1;
                writes.new_variants.push(variant);
            }
            RowKind::Updated => {
                outcome.updated += 1;
                writes.changed_variants.push(variant);
            }
            RowKind::Unchanged if product_changed || attributes_changed => outcome.updated += 1,
            RowKind::Unchanged => outcome.unchanged += 1,
        }
    }
    if let Some(attributes) = attributes.filter(|_| attributes_changed || is_new) {
        writes.attributes.push((product.id, attributes));
    }
    if is_new {
        ctx.products_now += 1;
        writes.new_products.push(product);
    } else if product_changed || attributes_changed || variants_changed {
        writes.changed_products.push(product);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RowKind {
    Created,
    Updated,
    Unchanged,
}

/// The product a group describes (stored or new, with the file's product-level fields), and
/// its attribute values when the file has the column.
#[allow(clippy::type_complexity)]
fn product_from(
    ctx: &Context,
    fields: &ProductFields,
    slug: &str,
    row: u64,
    stored: Option<&Product>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(Product, Option<Vec<(String, String)>>), Vec<RowError>> {
    let mut errors = Vec::new();
    let has = |name: &str| ctx.header.has(name);
    // Whose product this is.
    let vendor = match (ctx.vendor, fields.vendor) {
        (Some(own), Some(named)) if own != named => {
            errors.push(RowError::new(
                row,
                "vendor_id",
                format!("this import is for vendor {own}"),
            ));
            None
        }
        (Some(own), _) => Some(own),
        (None, Some(named)) => match ctx.vendors.get(&named) {
            Some(Some(v)) if v.may_list() => Some(named),
            Some(Some(_)) => {
                errors.push(RowError::new(
                    row,
                    "vendor_id",
                    "the vendor is rejected or suspended and may not list products",
                ));
                None
            }
            _ => {
                errors.push(RowError::new(
                    row,
                    "vendor_id",
                    "no such vendor in this shop",
                ));
                None
            }
        },
        (None, None) => {
            errors.push(RowError::new(
                row,
                "vendor_id",
                "required when importing for all vendors",
            ));
            None
        }
    };
    if let (Some(vendor), Some(p)) = (vendor, stored)
        && p.vendor != vendor
    {
        errors.push(RowError::new(
            row,
            "product_slug",
            "another vendor's product has this slug",
        ));
    }
    let category = match &fields.category {
        Some(slug) => match ctx.categories.get(slug) {
            Some(id) => Some(*id),
            None => {
                errors.push(RowError::new(
                    row,
                    "category",
                    "no such category in this shop",
                ));
                None
            }
        },
        None => None,
    };
    let attributes = if has("attributes") {
        let mut values = Vec::new();
        for (code, text) in fields.attributes.clone().unwrap_or_default() {
            match ctx.attributes.get(&code) {
                None => errors.push(RowError::new(
                    row,
                    "attributes",
                    format!("`{code}` is not an attribute of this shop"),
                )),
                Some(attribute) => match attribute.canonical_text(&text) {
                    Ok(value) => values.push((code, value)),
                    Err(m) => errors.push(RowError::new(row, "attributes", format!("{code}: {m}"))),
                },
            }
        }
        values.sort();
        Some(values)
    } else {
        None
    };
    if stored.is_none() && ctx.products_now >= ctx.product_limit {
        errors.push(RowError::new(
            row,
            "product_slug",
            format!(
                "the shop's plan allows {} products; this one would be over the limit",
                ctx.product_limit
            ),
        ));
    }
    let Some(vendor) = vendor.filter(|_| errors.is_empty()) else {
        return Err(errors);
    };
    let mut product = stored.cloned().unwrap_or_else(|| Product {
        id: ProductId::new(),
        vendor,
        slug: slug.to_owned(),
        title: String::new(),
        description: None,
        status: ProductStatus::Draft,
        status_reason: None,
        category: None,
        tags: Vec::new(),
        option_types: Vec::new(),
        seo: Seo::default(),
        currency: None,
        min_price: 0,
        created_at: now,
        updated_at: now,
    });
    product.title = fields.title.trim().to_owned();
    if has("description") || stored.is_none() {
        product.description = fields.description.clone();
    }
    if has("category") || stored.is_none() {
        product.category = category;
    }
    if has("tags") || stored.is_none() {
        product.tags = fields.tags.clone().unwrap_or_default();
    }
    if has("seo_title") || stored.is_none() {
        product.seo.title = fields.seo_title.clone();
    }
    if has("seo_description") || stored.is_none() {
        product.seo.description = fields.seo_description.clone();
    }
    if has("option1_name") || has("option2_name") || has("option3_name") || stored.is_none() {
        product.option_types = fields.option_types.clone();
    }
    Ok((product, attributes))
}
