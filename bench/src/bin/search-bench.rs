//! Measures the embedded search engine (`mercato-search`) on a generated marketplace:
//! indexing throughput into an index on disk, then the latency of a fixed mix of searches
//! (text with and without typos, filters, category browsing, attribute filters, all with
//! facets) and of autocomplete, one at a time and with two concurrent clients.
//!
//! The data set is deterministic (a seeded generator): `--shops` shops (10) with
//! `--products` products in all (100,000), each shop with 8 root categories of 5 children of
//! 3 leaves, 30 vendors, realistic titles, tags, descriptions, attributes, price ranges and
//! stock. Queries are drawn from each shop's own titles, so they find something.
//!
//! `cargo build --release -p mercato-bench --bin search-bench`, then
//! `$CARGO_TARGET_DIR/release/search-bench [--products N] [--shops N] [--queries N]`.
//! Prints a Markdown report for docs/PERFORMANCE.md.

use anyhow::{Context, bail};
use chrono::{Duration as Days, TimeZone, Utc};
use mercato_kernel::Currency;
use mercato_search::{
    Attribute, EmbeddedIndex, EmbeddedOptions, Filters, PriceRange, ProductDocument, SearchIndex,
    SearchQuery, Sort,
};
use mercato_tenant_context::{CategoryId, ProductId, TenantId, VendorId};
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The platform runs in this process: it allocates as `mercato` does (ADR 0022).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// SplitMix64: small, fast and the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    /// An id that depends only on the generator's state (not on the clock), so runs match.
    fn uuid(&mut self) -> uuid::Uuid {
        uuid::Uuid::from_u128((u128::from(self.next()) << 64) | u128::from(self.next()))
    }
}

struct Domain {
    name: &'static str,
    nouns: &'static [&'static str],
    qualifiers: &'static [&'static str],
    tags: &'static [&'static str],
}

const DOMAINS: [Domain; 8] = [
    Domain {
        name: "Tea",
        nouns: &["Tea", "Infusion", "Blend", "Tisane", "Matcha", "Chai"],
        qualifiers: &[
            "Chamomile",
            "Peppermint",
            "Earl Grey",
            "Jasmine",
            "Sencha",
            "Rooibos",
            "Hibiscus",
            "Lemongrass",
            "Ginger",
            "Oolong",
            "Darjeeling",
            "Assam",
            "Ceylon",
            "Lavender",
            "Rosehip",
            "Nettle",
        ],
        tags: &[
            "herbal",
            "caffeine-free",
            "loose-leaf",
            "black",
            "green",
            "calming",
        ],
    },
    Domain {
        name: "Coffee",
        nouns: &[
            "Coffee Beans",
            "Espresso",
            "Ground Coffee",
            "Cold Brew",
            "Decaf",
        ],
        qualifiers: &[
            "Colombian",
            "Ethiopian",
            "Sumatra",
            "Brazilian",
            "Kenyan",
            "Guatemalan",
            "Mocha",
            "Hazelnut",
            "Caramel",
            "Vanilla",
        ],
        tags: &[
            "arabica",
            "single-origin",
            "dark-roast",
            "light-roast",
            "whole-bean",
        ],
    },
    Domain {
        name: "Kitchen",
        nouns: &[
            "Teapot",
            "Mug",
            "Kettle",
            "Grinder",
            "French Press",
            "Cup",
            "Tray",
            "Infuser",
        ],
        qualifiers: &[
            "Ceramic",
            "Cast Iron",
            "Glass",
            "Bamboo",
            "Copper",
            "Stoneware",
            "Porcelain",
            "Enamel",
        ],
        tags: &["dishwasher-safe", "teaware", "barista", "kitchenware"],
    },
    Domain {
        name: "Home",
        nouns: &[
            "Candle", "Cushion", "Blanket", "Vase", "Lamp", "Rug", "Throw", "Planter",
        ],
        qualifiers: &[
            "Linen",
            "Wool",
            "Cotton",
            "Scented",
            "Handwoven",
            "Velvet",
            "Rattan",
            "Terracotta",
        ],
        tags: &["cosy", "decor", "living-room", "bedroom", "handmade"],
    },
    Domain {
        name: "Beauty",
        nouns: &[
            "Soap",
            "Shampoo",
            "Lotion",
            "Balm",
            "Serum",
            "Face Mask",
            "Body Oil",
        ],
        qualifiers: &[
            "Lavender", "Argan", "Shea", "Charcoal", "Rose", "Aloe", "Oatmeal", "Tea Tree",
        ],
        tags: &[
            "vegan",
            "cruelty-free",
            "sensitive-skin",
            "natural",
            "fragrance-free",
        ],
    },
    Domain {
        name: "Fashion",
        nouns: &[
            "T-Shirt", "Scarf", "Beanie", "Socks", "Sweater", "Tote Bag", "Cap", "Jacket",
        ],
        qualifiers: &[
            "Organic Cotton",
            "Merino",
            "Linen",
            "Denim",
            "Recycled",
            "Cashmere",
            "Fleece",
            "Hemp",
        ],
        tags: &["unisex", "slow-fashion", "winter", "summer", "sustainable"],
    },
    Domain {
        name: "Food",
        nouns: &[
            "Honey",
            "Granola",
            "Chocolate",
            "Jam",
            "Olive Oil",
            "Pasta",
            "Biscuits",
            "Spice Mix",
        ],
        qualifiers: &[
            "Wildflower",
            "Dark",
            "Strawberry",
            "Fig",
            "Truffle",
            "Smoked",
            "Lemon",
            "Almond",
        ],
        tags: &["gluten-free", "small-batch", "pantry", "sweet", "savoury"],
    },
    Domain {
        name: "Garden",
        nouns: &[
            "Seeds",
            "Pot",
            "Watering Can",
            "Gloves",
            "Trowel",
            "Bird Feeder",
            "Compost",
            "Hose",
        ],
        qualifiers: &[
            "Heirloom",
            "Galvanized",
            "Clay",
            "Leather",
            "Stainless",
            "Wooden",
            "Organic",
            "Self-Watering",
        ],
        tags: &["outdoor", "balcony", "grow-your-own", "tools"],
    },
];

const ADJECTIVES: [&str; 15] = [
    "Organic",
    "Premium",
    "Handmade",
    "Classic",
    "Artisan",
    "Small Batch",
    "Fair Trade",
    "Vintage",
    "Everyday",
    "Deluxe",
    "Eco",
    "Limited Edition",
    "Natural",
    "Rustic",
    "Modern",
];
const SUFFIXES: [&str; 8] = [
    "250g", "Set of 2", "No. 7", "Gift Box", "Large", "Mini", "1 kg", "Refill",
];
const GENERIC_TAGS: [&str; 7] = [
    "gift",
    "bestseller",
    "new",
    "sale",
    "eco-friendly",
    "limited",
    "local",
];
const VENDOR_FIRST: [&str; 12] = [
    "Leaf", "Oak", "River", "Copper", "Nordic", "Sunny", "Wild", "Maple", "Stone", "Willow",
    "Harbor", "Golden",
];
const VENDOR_SECOND: [&str; 10] = [
    "& Kettle",
    "Goods",
    "Supply Co.",
    "Trading",
    "Workshop",
    "Studio",
    "Roasters",
    "Farm",
    "House",
    "Collective",
];
const SENTENCES: [&str; 16] = [
    "Made in small batches and packed by hand.",
    "A favourite of our regular customers for years.",
    "Sourced directly from growers we visit every season.",
    "Ships in plastic-free packaging.",
    "Perfect as a gift or an everyday treat.",
    "Store in a cool, dry place away from sunlight.",
    "Each piece is slightly different, which is part of its charm.",
    "Pairs well with the rest of the collection.",
    "Certified organic and fairly traded.",
    "Designed to last and easy to care for.",
    "Limited quantities each month.",
    "Our team tested it for weeks before listing it.",
    "Rich, balanced and full of character.",
    "Light and fresh, ideal for warm afternoons.",
    "A cosy companion for long winter evenings.",
    "Returns are free within thirty days.",
];
const COLOURS: [&str; 12] = [
    "black", "white", "grey", "red", "blue", "green", "yellow", "brown", "beige", "pink", "navy",
    "olive",
];
const ORIGINS: [&str; 15] = [
    "Egypt", "India", "China", "Japan", "Kenya", "Colombia", "Brazil", "Italy", "France",
    "Portugal", "Germany", "Sweden", "Vietnam", "Morocco", "Mexico",
];
const SIZES: [&str; 5] = ["XS", "S", "M", "L", "XL"];

/// One shop's catalog structure: categories per domain and vendors.
struct ShopPlan {
    tenant: TenantId,
    /// Per domain: the root, its children, and each child's leaves.
    roots: Vec<CategoryId>,
    children: Vec<Vec<CategoryId>>,
    leaves: Vec<Vec<Vec<CategoryId>>>,
    vendors: Vec<(VendorId, String)>,
}

fn plan_shop(rng: &mut Rng) -> ShopPlan {
    let tenant = TenantId::from_uuid(rng.uuid());
    let mut plan = ShopPlan {
        tenant,
        roots: Vec::new(),
        children: Vec::new(),
        leaves: Vec::new(),
        vendors: Vec::new(),
    };
    for _ in &DOMAINS {
        plan.roots.push(CategoryId::from_uuid(rng.uuid()));
        let children: Vec<CategoryId> = (0..5).map(|_| CategoryId::from_uuid(rng.uuid())).collect();
        let leaves = children
            .iter()
            .map(|_| (0..3).map(|_| CategoryId::from_uuid(rng.uuid())).collect())
            .collect();
        plan.children.push(children);
        plan.leaves.push(leaves);
    }
    for _ in 0..30 {
        let name = format!("{} {}", rng.pick(&VENDOR_FIRST), rng.pick(&VENDOR_SECOND));
        plan.vendors.push((VendorId::from_uuid(rng.uuid()), name));
    }
    plan
}

fn product(rng: &mut Rng, plan: &ShopPlan, n: usize, eur: Currency) -> ProductDocument {
    let d = rng.below(DOMAINS.len());
    let domain = &DOMAINS[d];
    let child = rng.below(5);
    let leaf = plan.leaves[d][child][rng.below(3)];
    let (vendor_id, vendor_name) = plan.vendors[rng.below(plan.vendors.len())].clone();
    let qualifier = rng.pick(domain.qualifiers);
    let noun = rng.pick(domain.nouns);
    let mut title = String::new();
    if rng.chance(60) {
        title.push_str(rng.pick(&ADJECTIVES));
        title.push(' ');
    }
    title.push_str(qualifier);
    title.push(' ');
    title.push_str(noun);
    if rng.chance(40) {
        title.push_str(" – ");
        title.push_str(rng.pick(&SUFFIXES));
    }
    let mut tags: Vec<String> = (0..1 + rng.below(3))
        .map(|_| rng.pick(domain.tags).to_string())
        .collect();
    if rng.chance(50) {
        tags.push(rng.pick(&GENERIC_TAGS).to_string());
    }
    tags.sort();
    tags.dedup();
    let mut description = format!("{qualifier} {} from {vendor_name}.", noun.to_lowercase());
    for _ in 0..2 + rng.below(3) {
        description.push(' ');
        description.push_str(rng.pick(&SENTENCES));
    }
    let mut attributes = vec![
        Attribute::new("colour", rng.pick(&COLOURS)),
        Attribute::new("origin", rng.pick(&ORIGINS)),
    ];
    if domain.name == "Fashion" {
        for _ in 0..1 + rng.below(3) {
            attributes.push(Attribute::new("size", rng.pick(&SIZES)));
        }
    }
    if rng.chance(30) {
        attributes.push(Attribute::new("organic", "true"));
    }
    // Log-uniform from 3.00 to 500.00.
    let exponent = 2.5 + 2.2 * (rng.below(10_000) as f64 / 10_000.0);
    let price_min = 10f64.powf(exponent).round() as i64;
    let price_max = price_min + (price_min as f64 * (rng.below(100) as f64 / 100.0)) as i64;
    let created_at = Utc
        .with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default()
        + Days::minutes(rng.below(2 * 365 * 24 * 60) as i64);
    ProductDocument {
        tenant: plan.tenant,
        product_id: ProductId::from_uuid(rng.uuid()),
        vendor_id,
        vendor_name,
        slug: format!("{}-{n}", title.to_lowercase().replace([' ', '–', '.'], "-")),
        title,
        description,
        tags,
        category_ids: vec![leaf, plan.children[d][child], plan.roots[d]],
        attributes,
        price_min,
        price_max,
        currency: eur,
        in_stock: rng.chance(85),
        created_at,
    }
}

/// Introduces one typo (drop, swap or replace a letter) in a word of 5+ letters.
fn misspell(rng: &mut Rng, word: &str) -> String {
    let mut chars: Vec<char> = word.chars().collect();
    if chars.len() < 5 {
        return word.to_owned();
    }
    let at = 1 + rng.below(chars.len() - 2);
    match rng.below(3) {
        0 => {
            chars.remove(at);
        }
        1 => chars.swap(at, at + 1),
        _ => chars[at] = if chars[at] == 'e' { 'a' } else { 'e' },
    }
    chars.into_iter().collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Text,
    TextTypo,
    TextFilters,
    BrowseCategory,
    TextAttribute,
    Suggest,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Text => "text, 1–2 words",
            Kind::TextTypo => "text with a typo",
            Kind::TextFilters => "text + category, price, stock filters",
            Kind::BrowseCategory => "category page, sorted by price or newest",
            Kind::TextAttribute => "text + attribute filter",
            Kind::Suggest => "autocomplete (suggest, 8 titles)",
        }
    }
}

enum Request {
    Search(TenantId, Box<SearchQuery>),
    Suggest(TenantId, String),
}

fn title_words(title: &str) -> Vec<&str> {
    title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() >= 3)
        .collect()
}

fn make_requests(
    rng: &mut Rng,
    plans: &[ShopPlan],
    docs: &[ProductDocument],
    count: usize,
) -> Vec<(Kind, Request)> {
    let mut requests = Vec::with_capacity(count);
    for _ in 0..count {
        let doc = &docs[rng.below(docs.len())];
        let plan = plans
            .iter()
            .find(|p| p.tenant == doc.tenant)
            .unwrap_or(&plans[0]);
        let words = title_words(&doc.title);
        let word = |rng: &mut Rng| words.get(rng.below(words.len())).copied().unwrap_or("tea");
        let text = |rng: &mut Rng| {
            if rng.chance(50) && words.len() >= 2 {
                let i = rng.below(words.len() - 1);
                format!("{} {}", words[i], words[i + 1])
            } else {
                word(rng).to_owned()
            }
        };
        let roll = rng.below(100);
        let (kind, request) = if roll < 30 {
            (
                Kind::Text,
                Request::Search(doc.tenant, Box::new(SearchQuery::text(text(rng)))),
            )
        } else if roll < 50 {
            let longest = words
                .iter()
                .max_by_key(|w| w.len())
                .copied()
                .unwrap_or("chamomile");
            let typo = misspell(rng, longest);
            (
                Kind::TextTypo,
                Request::Search(doc.tenant, Box::new(SearchQuery::text(typo))),
            )
        } else if roll < 70 {
            // Mostly the word's own department, sometimes another (which finds nothing).
            let root = match doc.category_ids.last() {
                Some(root) if rng.chance(80) => *root,
                _ => plan.roots[rng.below(DOMAINS.len())],
            };
            let query = SearchQuery {
                filters: Filters {
                    categories: vec![root],
                    price: Some(PriceRange {
                        min: Some(500),
                        max: Some(5_000),
                    }),
                    in_stock: Some(true),
                    ..Filters::default()
                },
                ..SearchQuery::text(word(rng))
            };
            (
                Kind::TextFilters,
                Request::Search(doc.tenant, Box::new(query)),
            )
        } else if roll < 85 {
            let d = rng.below(DOMAINS.len());
            let query = SearchQuery {
                sort: if rng.chance(50) {
                    Sort::PriceAsc
                } else {
                    Sort::Newest
                },
                ..SearchQuery::browse(Filters {
                    categories: vec![plan.children[d][rng.below(5)]],
                    ..Filters::default()
                })
            };
            (
                Kind::BrowseCategory,
                Request::Search(doc.tenant, Box::new(query)),
            )
        } else if roll < 90 {
            let query = SearchQuery {
                filters: Filters {
                    attributes: BTreeMap::from([(
                        "colour".to_owned(),
                        vec![
                            rng.pick(&COLOURS).to_string(),
                            rng.pick(&COLOURS).to_string(),
                        ],
                    )]),
                    ..Filters::default()
                },
                ..SearchQuery::text(word(rng))
            };
            (
                Kind::TextAttribute,
                Request::Search(doc.tenant, Box::new(query)),
            )
        } else {
            let w = word(rng);
            let len = 2 + rng.below(4).min(w.len().saturating_sub(2));
            let prefix: String = w.chars().take(len).collect();
            (Kind::Suggest, Request::Suggest(doc.tenant, prefix))
        };
        requests.push((kind, request));
    }
    requests
}

/// Runs one request; returns how long it took and how many hits it had in all.
async fn run(index: &dyn SearchIndex, request: &Request) -> anyhow::Result<(Duration, u64)> {
    let started = Instant::now();
    let total = match request {
        Request::Search(tenant, query) => index.search(*tenant, query).await?.total,
        Request::Suggest(tenant, prefix) => index.suggest(*tenant, prefix, 8).await?.len() as u64,
    };
    Ok((started.elapsed(), total))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1_000.0)
}

fn dir_size(path: &Path) -> u64 {
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .flatten()
                .map(|entry| match entry.metadata() {
                    Ok(meta) if meta.is_dir() => dir_size(&entry.path()),
                    Ok(meta) => meta.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

struct Args {
    products: usize,
    shops: usize,
    queries: usize,
}

fn args() -> anyhow::Result<Args> {
    let mut parsed = Args {
        products: 100_000,
        shops: 10,
        queries: 5_000,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value: usize = args
            .next()
            .with_context(|| format!("{flag} needs a number"))?
            .parse()?;
        match flag.as_str() {
            "--products" => parsed.products = value,
            "--shops" => parsed.shops = value.max(1),
            "--queries" => parsed.queries = value,
            other => bail!("unknown flag {other}"),
        }
    }
    Ok(parsed)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args = args()?;
    let mut out = std::io::stdout().lock();
    let mut rng = Rng(0x6d65_7263_6174_6f21);
    let eur = Currency::parse("EUR")?;

    let plans: Vec<ShopPlan> = (0..args.shops).map(|_| plan_shop(&mut rng)).collect();
    let mut docs = Vec::with_capacity(args.products);
    for n in 0..args.products {
        let plan = &plans[n % plans.len()];
        docs.push(product(&mut rng, plan, n, eur));
    }

    // Indexing: batches of 1,000 (a reindex), then a final commit, into a directory on disk.
    let dir = tempfile::tempdir()?;
    let options = EmbeddedOptions::default();
    let writer_threads = options.writer_threads;
    let index: Arc<dyn SearchIndex> = Arc::new(EmbeddedIndex::open_in_dir(dir.path(), options)?);
    let started = Instant::now();
    for batch in docs.chunks(1_000) {
        index.upsert(batch.to_vec()).await?;
    }
    index.commit().await?;
    let indexing = started.elapsed();
    let mut indexed = 0;
    for plan in &plans {
        indexed += index.count(plan.tenant).await?;
    }
    if indexed != docs.len() as u64 {
        bail!("indexed {indexed} documents, expected {}", docs.len());
    }
    let size = dir_size(dir.path());

    // Catalog's event-driven path: one document per call, as product events arrive.
    let singles = docs.len().min(2_000);
    let started = Instant::now();
    for doc in docs.iter().take(singles) {
        let mut doc = doc.clone();
        doc.price_min += 1;
        doc.price_max += 1;
        index.upsert(vec![doc]).await?;
    }
    index.commit().await?;
    let single_rate = singles as f64 / started.elapsed().as_secs_f64();

    // How long until an upsert is searchable when nobody calls commit (the writer's timer).
    let mut visibility = Vec::new();
    for doc in docs.iter().take(20) {
        let mut doc = doc.clone();
        // Ten random letters: no other title is within two typos of it.
        let marker: String = (0..10)
            .map(|_| char::from(b'a' + (rng.below(26) as u8)))
            .collect();
        doc.title = format!("{} {marker}", doc.title);
        let tenant = doc.tenant;
        let started = Instant::now();
        index.upsert(vec![doc]).await?;
        loop {
            let query = SearchQuery {
                facets: None,
                ..SearchQuery::text(format!("{marker} "))
            };
            if index.search(tenant, &query).await?.total > 0 {
                break;
            }
            if started.elapsed() > Duration::from_secs(10) {
                bail!("an upsert was not searchable after 10 s");
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        visibility.push(started.elapsed());
    }
    visibility.sort();

    // Searches: a warm-up, then the measured mix one at a time, then two clients at once.
    let warm_up = make_requests(&mut rng, &plans, &docs, 300);
    for (_, request) in &warm_up {
        run(index.as_ref(), request).await?;
    }
    let requests = make_requests(&mut rng, &plans, &docs, args.queries);
    let mut by_kind: BTreeMap<Kind, Vec<Duration>> = BTreeMap::new();
    let mut searches = Vec::new();
    let mut empty = 0usize;
    let mut hits_total = 0u64;
    for (kind, request) in &requests {
        let (took, total) = run(index.as_ref(), request).await?;
        by_kind.entry(*kind).or_default().push(took);
        if *kind != Kind::Suggest {
            searches.push(took);
            hits_total += total;
            if total == 0 {
                empty += 1;
            }
        }
    }
    let concurrent_started = Instant::now();
    let requests = Arc::new(requests);
    let mut clients = Vec::new();
    for client in 0..2 {
        let index = Arc::clone(&index);
        let requests = Arc::clone(&requests);
        clients.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            for (_, request) in requests.iter().skip(client).step_by(2) {
                latencies.push(run(index.as_ref(), request).await?.0);
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut concurrent = Vec::new();
    for client in clients {
        concurrent.extend(client.await??);
    }
    let concurrent_elapsed = concurrent_started.elapsed();

    writeln!(
        out,
        "Data: {} products in {} shops ({} per shop), {} categories and 30 vendors per shop; \
         index on disk {:.0} MB.",
        docs.len(),
        plans.len(),
        docs.len() / plans.len(),
        8 * (1 + 5 + 15),
        size as f64 / 1e6
    )?;
    writeln!(
        out,
        "Indexing: {} documents in {:.1} s = **{:.0} docs/s** (batches of 1,000, {} writer threads, one final commit).",
        docs.len(),
        indexing.as_secs_f64(),
        docs.len() as f64 / indexing.as_secs_f64(),
        writer_threads
    )?;
    writeln!(
        out,
        "Single-document upserts (one call per product event): **{single_rate:.0} docs/s**. \
         An upsert is searchable without an explicit commit after {} (median) to {} (max) \
         with the default 250 ms commit interval.",
        ms(percentile(&visibility, 50.0)),
        ms(visibility.last().copied().unwrap_or_default()),
    )?;
    writeln!(out)?;
    writeln!(out, "| query kind | share | p50 | p95 | p99 | max |")?;
    writeln!(out, "|---|---|---|---|---|---|")?;
    let row = |label: &str, latencies: &mut Vec<Duration>, total: usize| {
        latencies.sort();
        format!(
            "| {label} | {:.0} % | {} | {} | {} | {} |",
            100.0 * latencies.len() as f64 / total.max(1) as f64,
            ms(percentile(latencies, 50.0)),
            ms(percentile(latencies, 95.0)),
            ms(percentile(latencies, 99.0)),
            ms(latencies.last().copied().unwrap_or_default()),
        )
    };
    let total_requests = requests.len();
    for (kind, latencies) in &mut by_kind {
        writeln!(out, "{}", row(kind.label(), latencies, total_requests))?;
    }
    writeln!(
        out,
        "{}",
        row(
            "**all searches (with facets)**",
            &mut searches,
            total_requests
        )
    )?;
    concurrent.sort();
    writeln!(out)?;
    writeln!(
        out,
        "Searches averaged {:.0} matching products; {} of {} found none. Two concurrent clients: \
         {:.0} requests/s, p50 {}, p99 {}.",
        hits_total as f64 / searches.len().max(1) as f64,
        empty,
        searches.len(),
        concurrent.len() as f64 / concurrent_elapsed.as_secs_f64(),
        ms(percentile(&concurrent, 50.0)),
        ms(percentile(&concurrent, 99.0)),
    )?;
    Ok(())
}
