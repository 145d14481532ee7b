//! The command line: which backend, how many shoppers for how long, which cards.

use anyhow::{Context, bail};

/// What to run (see the usage line in `main.rs`).
pub struct Args {
    pub postgres: Option<String>,
    pub pool: u32,
    pub shoppers: Vec<usize>,
    pub seconds: u64,
    pub warmup: u64,
    pub vendors: usize,
    pub products: usize,
    pub cards: Vec<String>,
    /// PostgreSQL: vacuum and analyze the schemas after the seed and before each level.
    pub vacuum: bool,
}

pub fn args() -> anyhow::Result<Args> {
    let mut parsed = Args {
        postgres: None,
        pool: 0,
        shoppers: vec![16, 32, 64],
        seconds: 25,
        warmup: 3,
        vendors: 10,
        products: 10,
        cards: vec!["4242424242424242".into(), "4000000000003220".into()],
        vacuum: true,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--no-vacuum" {
            parsed.vacuum = false;
            continue;
        }
        let value = args
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        let list = || value.split(',').map(str::to_owned).collect::<Vec<_>>();
        match flag.as_str() {
            "--postgres" => parsed.postgres = Some(value),
            "--pool" => parsed.pool = value.parse().context("--pool: a number")?,
            "--shoppers" => {
                parsed.shoppers = list()
                    .iter()
                    .map(|n| n.parse())
                    .collect::<Result<_, _>>()
                    .context("--shoppers: numbers, e.g. 16,32,64")?;
            }
            "--seconds" => parsed.seconds = value.parse().context("--seconds: a number")?,
            "--warmup" => parsed.warmup = value.parse().context("--warmup: a number")?,
            "--vendors" => parsed.vendors = value.parse().context("--vendors: a number")?,
            "--products" => parsed.products = value.parse().context("--products: a number")?,
            "--cards" => {
                parsed.cards = list()
                    .into_iter()
                    .map(|c| match c.as_str() {
                        "4242" => "4242424242424242".to_owned(),
                        "3220" => "4000000000003220".to_owned(),
                        _ => c,
                    })
                    .collect();
            }
            _ => bail!("unknown flag {flag}"),
        }
    }
    if parsed.pool == 0 {
        // PostgreSQL: six pools share the server's 100 connections with other clients.
        parsed.pool = if parsed.postgres.is_some() { 12 } else { 10 };
    }
    Ok(parsed)
}
