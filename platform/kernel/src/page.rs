//! Cursor pagination: `{ "data": [...], "next_cursor": "…" | null }`.

use serde::{Deserialize, Serialize};

pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 200;

/// `?limit=&cursor=` on every list endpoint.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// How many items, 1 to 200 (default 50).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl ListQuery {
    /// The limit and the typed cursor (`T` is the id type the list's cursors are made of).
    pub fn page<T: std::str::FromStr>(&self) -> Result<(u64, Option<T>), crate::Problem> {
        let limit = self.limit()?;
        let cursor = match self.cursor.as_deref() {
            None | Some("") => None,
            Some(text) => Some(text.parse().map_err(|_| {
                crate::Problem::invalid_field("/cursor", "not a cursor this list gave out")
            })?),
        };
        Ok((limit, cursor))
    }

    pub fn limit(&self) -> Result<u64, crate::Problem> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(_) => Err(crate::Problem::invalid_field(
                "/limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            )),
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ListResponse<T> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> ListResponse<T> {
    /// Builds a page from `limit + 1` fetched rows: the extra row only says there is more.
    pub fn from_overfetch(mut rows: Vec<T>, limit: u64, cursor_of: impl Fn(&T) -> String) -> Self {
        let more = rows.len() as u64 > limit;
        rows.truncate(limit as usize);
        let next_cursor = if more {
            rows.last().map(cursor_of)
        } else {
            None
        };
        Self {
            data: rows,
            next_cursor,
        }
    }
}
