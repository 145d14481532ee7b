//! Merchant staff rules: who may grant which role, how seats are counted, and that a shop
//! always keeps an owner.

use mercato_tenant_context::Role;

/// How much a role may do; a role may hand out roles up to its own rank.
pub fn rank(role: Role) -> u8 {
    match role {
        Role::Owner => 3,
        Role::Admin => 2,
        Role::Staff => 1,
        Role::Customer => 0,
    }
}

/// A staff role from its code; customers are not staff.
pub fn parse_staff_role(code: &str) -> Option<Role> {
    match code {
        "owner" => Some(Role::Owner),
        "admin" => Some(Role::Admin),
        "staff" => Some(Role::Staff),
        _ => None,
    }
}

pub fn role_code(role: Role) -> &'static str {
    match role {
        Role::Owner => "owner",
        Role::Admin => "admin",
        Role::Staff => "staff",
        Role::Customer => "customer",
    }
}

/// The most powerful of the caller's roles (an API key has one; a user has one today).
pub fn highest(roles: &[Role]) -> Option<Role> {
    roles.iter().copied().max_by_key(|r| rank(*r))
}

/// Why a staff change is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The actor may not hand out this role (an admin inviting an owner).
    RoleTooHigh,
    /// The target outranks the actor (an admin changing an owner).
    TargetOutranks,
    /// The change would leave the shop without an active owner.
    LastOwner,
}

impl Refusal {
    pub fn message(self) -> &'static str {
        match self {
            Refusal::RoleTooHigh => "you can only grant roles up to your own",
            Refusal::TargetOutranks => "you cannot change someone whose role is above yours",
            Refusal::LastOwner => "the shop must keep at least one active owner",
        }
    }
}

/// May `actor` give someone `role` (by invitation or API key)? Only staff roles, up to the
/// actor's own: an owner grants any, an admin admin or staff.
pub fn check_grant(actor: Role, role: Role) -> Result<(), Refusal> {
    if !actor.is_staff_role() || !role.is_staff_role() || rank(role) > rank(actor) {
        return Err(Refusal::RoleTooHigh);
    }
    Ok(())
}

/// May `actor` change a member's role from `current` to `new`, with `active_owners` owners
/// in the shop (the member included if they are one)?
pub fn check_role_change(
    actor: Role,
    current: Role,
    new: Role,
    active_owners: u64,
) -> Result<(), Refusal> {
    if rank(current) > rank(actor) {
        return Err(Refusal::TargetOutranks);
    }
    check_grant(actor, new)?;
    if current == Role::Owner && new != Role::Owner && active_owners <= 1 {
        return Err(Refusal::LastOwner);
    }
    Ok(())
}

/// May `actor` remove a member whose role is `current`?
pub fn check_removal(actor: Role, current: Role, active_owners: u64) -> Result<(), Refusal> {
    if !actor.is_staff_role() || rank(current) > rank(actor) {
        return Err(Refusal::TargetOutranks);
    }
    if current == Role::Owner && active_owners <= 1 {
        return Err(Refusal::LastOwner);
    }
    Ok(())
}

/// Seats in use: active staff accounts (owner included) and invitations still pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seats {
    pub active_staff: u64,
    pub pending_invitations: u64,
}

impl Seats {
    /// Does one more invitation fit within `limit` seats?
    pub fn allow_one_more(self, limit: u32) -> bool {
        self.active_staff
            .saturating_add(self.pending_invitations)
            .saturating_add(1)
            <= u64::from(limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Role::*;

    #[test]
    fn owners_grant_any_staff_role_admins_up_to_admin() {
        for role in [Owner, Admin, Staff] {
            assert_eq!(check_grant(Owner, role), Ok(()));
        }
        assert_eq!(check_grant(Admin, Admin), Ok(()));
        assert_eq!(check_grant(Admin, Staff), Ok(()));
        assert_eq!(check_grant(Admin, Owner), Err(Refusal::RoleTooHigh));
        assert_eq!(check_grant(Staff, Staff), Ok(()), "rank alone allows it");
        assert_eq!(check_grant(Owner, Customer), Err(Refusal::RoleTooHigh));
        assert_eq!(check_grant(Customer, Customer), Err(Refusal::RoleTooHigh));
    }

    #[test]
    fn admins_cannot_touch_owners() {
        assert_eq!(
            check_role_change(Admin, Owner, Staff, 3),
            Err(Refusal::TargetOutranks)
        );
        assert_eq!(check_removal(Admin, Owner, 3), Err(Refusal::TargetOutranks));
        assert_eq!(
            check_role_change(Admin, Staff, Owner, 1),
            Err(Refusal::RoleTooHigh)
        );
        assert_eq!(check_role_change(Admin, Staff, Admin, 1), Ok(()));
        assert_eq!(check_removal(Admin, Admin, 1), Ok(()));
    }

    #[test]
    fn the_last_owner_stays() {
        assert_eq!(
            check_role_change(Owner, Owner, Admin, 1),
            Err(Refusal::LastOwner)
        );
        assert_eq!(check_removal(Owner, Owner, 1), Err(Refusal::LastOwner));
        assert_eq!(check_role_change(Owner, Owner, Admin, 2), Ok(()));
        assert_eq!(check_removal(Owner, Owner, 2), Ok(()));
        // Keeping the role is no demotion.
        assert_eq!(check_role_change(Owner, Owner, Owner, 1), Ok(()));
    }

    #[test]
    fn seats_count_accounts_and_pending_invitations() {
        let free = 2;
        let owner_only = Seats {
            active_staff: 1,
            pending_invitations: 0,
        };
        assert!(owner_only.allow_one_more(free));
        let owner_and_invite = Seats {
            active_staff: 1,
            pending_invitations: 1,
        };
        assert!(!owner_and_invite.allow_one_more(free));
        let full = Seats {
            active_staff: 2,
            pending_invitations: 0,
        };
        assert!(!full.allow_one_more(free));
        assert!(full.allow_one_more(10));
        let absurd = Seats {
            active_staff: u64::MAX,
            pending_invitations: u64::MAX,
        };
        assert!(!absurd.allow_one_more(u32::MAX));
    }

    #[test]
    fn staff_roles_parse_and_rank() {
        assert_eq!(parse_staff_role("admin"), Some(Admin));
        assert_eq!(parse_staff_role("customer"), None);
        assert_eq!(parse_staff_role("Owner"), None);
        assert_eq!(highest(&[Staff, Owner, Admin]), Some(Owner));
        assert_eq!(highest(&[]), None);
        for role in [Owner, Admin, Staff] {
            assert_eq!(parse_staff_role(role_code(role)), Some(role));
        }
    }
}
