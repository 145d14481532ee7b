//! The shop's public product list: only `active` products of approved vendors, filtered and
//! sorted, paged by keyset (the sort key and the id of the last product seen). One SQL text
//! serves both backends: placeholders are `$n`, values are bound, nothing is interpolated.

use mercato_db::TenantTx;
use mercato_tenant_context::{CategoryId, ProductId, VendorId};
use sea_orm::{ConnectionTrait, DbErr, Statement, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// Most recently created first.
    #[default]
    Newest,
    /// By the lowest variant price, cheapest first.
    PriceAsc,
    /// By the lowest variant price, dearest first.
    PriceDesc,
    /// By title, A to Z.
    Title,
}

impl Sort {
    pub fn parse(code: &str) -> Option<Self> {
        Some(match code {
            "newest" => Self::Newest,
            "price_asc" => Self::PriceAsc,
            "price_desc" => Self::PriceDesc,
            "title" => Self::Title,
            _ => return None,
        })
    }
}

/// Where the previous page ended, in the sort's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum After {
    Id(ProductId),
    Price(i64, ProductId),
    Title(String, ProductId),
}

#[derive(Debug, Clone, Default)]
pub struct PublicFilter {
    /// Products in any of these categories (a category and its descendants).
    pub categories: Option<Vec<CategoryId>>,
    pub vendor: Option<VendorId>,
    /// Some variant costs at least this many minor units.
    pub min_price: Option<i64>,
    /// Some variant costs at most this many minor units.
    pub max_price: Option<i64>,
    /// For each attribute code, the product's value is one of these (canonical text).
    pub attributes: Vec<(String, Vec<String>)>,
    /// Some variant has units available.
    pub in_stock: bool,
}

/// One product of a page, with its sort key (for the next cursor).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub id: ProductId,
    pub min_price: i64,
    pub title: String,
}

struct Sql {
    text: String,
    values: Vec<Value>,
}

impl Sql {
    fn bind(&mut self, value: impl Into<Value>) -> String {
        self.values.push(value.into());
        format!("${}", self.values.len())
    }

    fn list(&mut self, values: impl IntoIterator<Item = Value>) -> String {
        let params: Vec<String> = values.into_iter().map(|v| self.bind(v)).collect();
        params.join(", ")
    }
}

/// One page of the public list: up to `limit` products after `after`.
pub async fn public_page(
    tx: &TenantTx,
    filter: &PublicFilter,
    sort: Sort,
    after: Option<&After>,
    limit: u64,
) -> Result<Vec<Hit>, DbErr> {
    let mut sql = Sql {
        text: String::new(),
        values: Vec::new(),
    };
    let tenant = sql.bind(tx.tenant().as_uuid());
    let mut conditions = vec![
        format!("p.tenant_id = {tenant}"),
        "p.status = 'active'".to_owned(),
        "v.status = 'approved'".to_owned(),
    ];
    if let Some(vendor) = filter.vendor {
        conditions.push(format!("p.vendor_id = {}", sql.bind(vendor.as_uuid())));
    }
    if let Some(categories) = &filter.categories {
        if categories.is_empty() {
            return Ok(Vec::new());
        }
        let list = sql.list(categories.iter().map(|c| Value::from(c.as_uuid())));
        conditions.push(format!("p.category_id IN ({list})"));
    }
    if filter.min_price.is_some() || filter.max_price.is_some() {
        let mut price = Vec::new();
        if let Some(min) = filter.min_price {
            price.push(format!("x.price_amount >= {}", sql.bind(min)));
        }
        if let Some(max) = filter.max_price {
            price.push(format!("x.price_amount <= {}", sql.bind(max)));
        }
        conditions.push(format!(
            "EXISTS (SELECT 1 FROM variants x WHERE x.tenant_id = p.tenant_id AND x.product_id = p.id AND {})",
            price.join(" AND ")
        ));
    }
    for (code, values) in &filter.attributes {
        let code = sql.bind(code.clone());
        let list = sql.list(values.iter().map(|v| Value::from(v.clone())));
        conditions.push(format!(
            "EXISTS (SELECT 1 FROM product_attributes a WHERE a.tenant_id = p.tenant_id AND a.product_id = p.id AND a.code = {code} AND a.value IN ({list}))"
        ));
    }
    if filter.in_stock {
        conditions.push(
            "EXISTS (SELECT 1 FROM variants x JOIN stock s ON s.tenant_id = x.tenant_id AND s.variant_id = x.id \
             WHERE x.tenant_id = p.tenant_id AND x.product_id = p.id AND s.available > 0)"
                .to_owned(),
        );
    }
    let order = match sort {
        Sort::Newest => "p.id DESC",
        Sort::PriceAsc => "p.min_price ASC, p.id ASC",
        Sort::PriceDesc => "p.min_price DESC, p.id DESC",
        Sort::Title => "p.title ASC, p.id ASC",
    };
    match (sort, after) {
        (_, None) => {}
        (Sort::Newest, Some(After::Id(id))) => {
            conditions.push(format!("p.id < {}", sql.bind(id.as_uuid())));
        }
        (Sort::PriceAsc | Sort::PriceDesc, Some(After::Price(price, id))) => {
            let op = if sort == Sort::PriceAsc { ">" } else { "<" };
            let (p1, p2, i) = (sql.bind(*price), sql.bind(*price), sql.bind(id.as_uuid()));
            conditions.push(format!(
                "(p.min_price {op} {p1} OR (p.min_price = {p2} AND p.id {op} {i}))"
            ));
        }
        (Sort::Title, Some(After::Title(title, id))) => {
            let (t1, t2, i) = (
                sql.bind(title.clone()),
                sql.bind(title.clone()),
                sql.bind(id.as_uuid()),
            );
            conditions.push(format!(
                "(p.title > {t1} OR (p.title = {t2} AND p.id > {i}))"
            ));
        }
        // A cursor of another sort: start from the beginning.
        _ => {}
    }
    let limit = sql.bind(i64::try_from(limit).unwrap_or(i64::MAX));
    sql.text = format!(
        "SELECT p.id, p.min_price, p.title FROM products p \
         JOIN vendors v ON v.tenant_id = p.tenant_id AND v.id = p.vendor_id \
         WHERE {} ORDER BY {order} LIMIT {limit}",
        conditions.join(" AND ")
    );
    let backend = tx.get_database_backend();
    let rows = tx
        .query_all_raw(Statement::from_sql_and_values(
            backend, sql.text, sql.values,
        ))
        .await?;
    rows.iter()
        .map(|row| {
            Ok(Hit {
                id: ProductId::from_uuid(row.try_get("", "id")?),
                min_price: row.try_get("", "min_price")?,
                title: row.try_get("", "title")?,
            })
        })
        .collect()
}
