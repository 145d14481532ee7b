//! A shop's category tree: each category has at most one parent, the tree has no cycles and
//! is at most [`MAX_DEPTH`] levels deep. Filtering by a category includes its descendants.

use mercato_tenant_context::CategoryId;
use std::collections::{BTreeMap, BTreeSet};

pub const MAX_DEPTH: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    pub id: CategoryId,
    pub parent: Option<CategoryId>,
    pub name: String,
    pub slug: String,
    /// Order among its siblings (lower first).
    pub position: i32,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// The whole tree of one shop, for walking up and down.
#[derive(Debug, Clone, Default)]
pub struct CategoryTree {
    parent: BTreeMap<CategoryId, Option<CategoryId>>,
    children: BTreeMap<CategoryId, Vec<CategoryId>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoveError {
    /// The new parent is the category itself or one of its descendants.
    Cycle,
    UnknownParent,
    TooDeep,
}

impl MoveError {
    pub fn message(self) -> &'static str {
        match self {
            MoveError::Cycle => "a category cannot be placed under itself or its descendants",
            MoveError::UnknownParent => "no such category in this shop",
            MoveError::TooDeep => "the category tree is at most 8 levels deep",
        }
    }
}

impl CategoryTree {
    pub fn new(categories: &[Category]) -> Self {
        let mut tree = Self::default();
        for c in categories {
            tree.parent.insert(c.id, c.parent);
            if let Some(parent) = c.parent {
                tree.children.entry(parent).or_default().push(c.id);
            }
        }
        tree
    }

    pub fn contains(&self, id: CategoryId) -> bool {
        self.parent.contains_key(&id)
    }

    /// `id` and every category below it.
    pub fn with_descendants(&self, id: CategoryId) -> Vec<CategoryId> {
        let mut out = Vec::new();
        let mut stack = vec![id];
        let mut seen = BTreeSet::new();
        while let Some(next) = stack.pop() {
            if !seen.insert(next) {
                continue;
            }
            out.push(next);
            if let Some(children) = self.children.get(&next) {
                stack.extend(children.iter().copied());
            }
        }
        out
    }

    /// The ids from the root down to `id` (inclusive); empty for an unknown id.
    pub fn path(&self, id: CategoryId) -> Vec<CategoryId> {
        let mut path = Vec::new();
        let mut at = Some(id);
        while let Some(current) = at {
            if !self.contains(current) || path.contains(&current) || path.len() > MAX_DEPTH * 2 {
                break;
            }
            path.push(current);
            at = self.parent.get(&current).copied().flatten();
        }
        path.reverse();
        path
    }

    /// How many levels the subtree under `id` spans (1 for a leaf).
    fn height(&self, id: CategoryId) -> usize {
        self.children
            .get(&id)
            .map(|children| 1 + children.iter().map(|c| self.height(*c)).max().unwrap_or(0))
            .unwrap_or(1)
    }

    /// Checks placing `id` (new when not in the tree) under `parent`.
    pub fn check_move(&self, id: CategoryId, parent: Option<CategoryId>) -> Result<(), MoveError> {
        let Some(parent) = parent else {
            return if self.contains(id) && self.height(id) > MAX_DEPTH {
                Err(MoveError::TooDeep)
            } else {
                Ok(())
            };
        };
        if !self.contains(parent) {
            return Err(MoveError::UnknownParent);
        }
        if parent == id || self.path(parent).contains(&id) {
            return Err(MoveError::Cycle);
        }
        let height = if self.contains(id) {
            self.height(id)
        } else {
            1
        };
        if self.path(parent).len() + height > MAX_DEPTH {
            return Err(MoveError::TooDeep);
        }
        Ok(())
    }

    pub fn has_children(&self, id: CategoryId) -> bool {
        self.children.get(&id).is_some_and(|c| !c.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn category(id: CategoryId, parent: Option<CategoryId>) -> Category {
        Category {
            id,
            parent,
            name: "c".into(),
            slug: id.to_string(),
            position: 0,
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        }
    }

    /// root → (tea → green, coffee)
    fn sample() -> (CategoryTree, [CategoryId; 4]) {
        let ids = [(); 4].map(|_| CategoryId::new());
        let [root, tea, green, coffee] = ids;
        let tree = CategoryTree::new(&[
            category(root, None),
            category(tea, Some(root)),
            category(green, Some(tea)),
            category(coffee, Some(root)),
        ]);
        (tree, ids)
    }

    #[test]
    fn descendants_and_paths() {
        let (tree, [root, tea, green, coffee]) = sample();
        let mut below_tea = tree.with_descendants(tea);
        below_tea.sort();
        let mut expected = vec![tea, green];
        expected.sort();
        assert_eq!(below_tea, expected);
        assert_eq!(tree.with_descendants(root).len(), 4);
        assert_eq!(tree.path(green), vec![root, tea, green]);
        assert_eq!(tree.path(coffee), vec![root, coffee]);
        assert!(tree.path(CategoryId::new()).is_empty());
        assert!(tree.has_children(tea) && !tree.has_children(green));
    }

    #[test]
    fn moves_that_would_make_a_cycle_are_refused() {
        let (tree, [root, tea, green, coffee]) = sample();
        assert_eq!(tree.check_move(tea, Some(green)), Err(MoveError::Cycle));
        assert_eq!(tree.check_move(tea, Some(tea)), Err(MoveError::Cycle));
        assert_eq!(tree.check_move(root, Some(green)), Err(MoveError::Cycle));
        assert_eq!(tree.check_move(tea, Some(coffee)), Ok(()));
        assert_eq!(tree.check_move(green, None), Ok(()));
        assert_eq!(
            tree.check_move(green, Some(CategoryId::new())),
            Err(MoveError::UnknownParent)
        );
        assert_eq!(tree.check_move(CategoryId::new(), Some(green)), Ok(()));
    }

    #[test]
    fn the_tree_has_a_depth_limit() {
        let mut categories = Vec::new();
        let mut parent = None;
        for _ in 0..MAX_DEPTH {
            let id = CategoryId::new();
            categories.push(category(id, parent));
            parent = Some(id);
        }
        let tree = CategoryTree::new(&categories);
        assert_eq!(
            tree.check_move(CategoryId::new(), parent),
            Err(MoveError::TooDeep)
        );
        let second = categories[1].id;
        // Moving a 7-level subtree under a root-level sibling makes it 9 deep.
        let sibling = CategoryId::new();
        categories.push(category(sibling, Some(categories[0].id)));
        let tree = CategoryTree::new(&categories);
        assert_eq!(
            tree.check_move(second, Some(sibling)),
            Err(MoveError::TooDeep)
        );
        assert_eq!(tree.check_move(second, None), Ok(()));
    }
}
