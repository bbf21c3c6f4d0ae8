//! Named accounts, their invitations and failed sign-ins. An account acts through a principal
//! row of `api_keys` (role, name, site) whose `secret_hash` matches no secret, so everything
//! that records a key (decisions, claims, console sessions) records the person.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::records::NewApiKey;
use super::schema::{
    account_invitations, account_recovery_codes, accounts, api_keys, console_sessions,
    sign_in_failures,
};
use super::{now, write_tx, DbConnection, StoreError};
use crate::domain::{AccountId, ApiKeyId, DecisionId, Role, SiteId};

/// Stored in `api_keys.prefix` of an account's principal key (listings tell them apart).
pub const PRINCIPAL_PREFIX: &str = "account";

/// An account with its principal key's role, name and site.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = accounts)]
pub struct Account {
    pub id: AccountId,
    pub key_id: ApiKeyId,
    #[diesel(select_expression = api_keys::site_id)]
    pub site_id: SiteId,
    #[diesel(select_expression = api_keys::role)]
    pub role: Role,
    #[diesel(select_expression = api_keys::name)]
    pub name: String,
    pub email_sealed: String,
    pub password_hash: Option<String>,
    pub disabled_at: Option<NaiveDateTime>,
    pub last_sign_in_at: Option<NaiveDateTime>,
    pub totp_secret_sealed: Option<String>,
    pub totp_enabled_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

impl Account {
    /// `invited` (no password yet), `active` or `disabled`.
    pub fn state(&self) -> &'static str {
        if self.disabled_at.is_some() {
            "disabled"
        } else if self.password_hash.is_none() {
            "invited"
        } else {
            "active"
        }
    }
}

/// What a new account is made of (the e-mail already hashed and sealed).
pub struct NewAccount<'a> {
    pub site_id: SiteId,
    pub role: Role,
    pub name: &'a str,
    pub email_hash: &'a str,
    pub email_sealed: &'a str,
    pub created_by: &'a str,
}

/// An invitation just made: the only moment its token exists outside the invitee's link.
#[derive(Debug)]
pub struct Invitation {
    pub token: String,
    pub expires_at: NaiveDateTime,
}

/// Creates the account and its first invitation; `None` when the e-mail already has one.
pub fn create(
    conn: &mut DbConnection,
    new: &NewAccount<'_>,
    invitation_lifetime: chrono::Duration,
) -> Result<Option<(Account, Invitation)>, StoreError> {
    let result = write_tx::<_, diesel::result::Error, _>(conn, |conn| {
        let taken = accounts::table
            .filter(accounts::email_hash.eq(new.email_hash))
            .select(accounts::id)
            .first::<AccountId>(conn)
            .optional()?
            .is_some();
        if taken {
            return Ok(None);
        }
        let key_id = diesel::insert_into(api_keys::table)
            .values(NewApiKey {
                site_id: new.site_id,
                role: new.role,
                name: new.name,
                prefix: PRINCIPAL_PREFIX,
                // Not a hex SHA-256: no secret can ever match it.
                secret_hash: &format!("account:{}", super::console::random_token()),
                created_at: now(),
            })
            .returning(api_keys::id)
            .get_result::<ApiKeyId>(conn)?;
        let id = diesel::insert_into(accounts::table)
            .values((
                accounts::key_id.eq(key_id),
                accounts::email_hash.eq(new.email_hash),
                accounts::email_sealed.eq(new.email_sealed),
                accounts::created_by.eq(new.created_by),
                accounts::created_at.eq(now()),
            ))
            .returning(accounts::id)
            .get_result::<AccountId>(conn)?;
        let invitation = insert_invitation(conn, id, invitation_lifetime)?;
        let account = by_id_any_site(conn, id)?.ok_or(diesel::result::Error::NotFound)?;
        Ok(Some((account, invitation)))
    });
    match result {
        Ok(found) => Ok(found),
        // Two admins inviting the same address at once: the second finds it taken.
        Err(e) if super::is_unique_violation(&e) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn insert_invitation(
    conn: &mut DbConnection,
    account_id: AccountId,
    lifetime: chrono::Duration,
) -> Result<Invitation, diesel::result::Error> {
    let token = super::console::random_token();
    let created = now();
    let expires_at = created + lifetime;
    diesel::insert_into(account_invitations::table)
        .values((
            account_invitations::token_hash.eq(super::keys::hash_secret(&token)),
            account_invitations::account_id.eq(account_id),
            account_invitations::created_at.eq(created),
            account_invitations::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(Invitation { token, expires_at })
}

fn by_id_any_site(
    conn: &mut DbConnection,
    id: AccountId,
) -> Result<Option<Account>, diesel::result::Error> {
    accounts::table
        .inner_join(api_keys::table)
        .filter(accounts::id.eq(id))
        .select(Account::as_select())
        .first(conn)
        .optional()
}

/// The account `id` of `site_id`, if any.
pub fn by_id(
    conn: &mut DbConnection,
    site_id: SiteId,
    id: AccountId,
) -> Result<Option<Account>, StoreError> {
    Ok(by_id_any_site(conn, id)?.filter(|a| a.site_id == site_id))
}

/// The account acting through principal key `key_id`, if that key is one.
pub fn by_key(conn: &mut DbConnection, key_id: ApiKeyId) -> Result<Option<Account>, StoreError> {
    Ok(accounts::table
        .inner_join(api_keys::table)
        .filter(accounts::key_id.eq(key_id))
        .select(Account::as_select())
        .first(conn)
        .optional()?)
}

/// The accounts of a site (`None`: of every site), oldest first, with their site's slug.
pub fn list(
    conn: &mut DbConnection,
    site_id: Option<SiteId>,
) -> Result<Vec<(Account, String)>, StoreError> {
    use super::schema::sites;
    let mut query = accounts::table
        .inner_join(api_keys::table.inner_join(sites::table))
        .order(accounts::id)
        .select((Account::as_select(), sites::slug))
        .into_boxed();
    if let Some(site) = site_id {
        query = query.filter(api_keys::site_id.eq(site));
    }
    Ok(query.load(conn)?)
}

/// The account signing in with this e-mail hash, if any (disabled ones included: the caller
/// answers them like a wrong password), unless its principal key was revoked by hand.
pub fn for_sign_in(
    conn: &mut DbConnection,
    email_hash: &str,
) -> Result<Option<Account>, StoreError> {
    Ok(accounts::table
        .inner_join(api_keys::table)
        .filter(accounts::email_hash.eq(email_hash))
        .filter(api_keys::revoked_at.is_null())
        .select(Account::as_select())
        .first(conn)
        .optional()?)
}

/// What became of an invitation token.
#[derive(Debug)]
pub enum InvitationState {
    /// No such token.
    Unknown,
    /// Used, superseded by a newer one, expired, or its account disabled.
    Gone(&'static str),
    Valid(Account),
}

fn invitation_state(
    conn: &mut DbConnection,
    token: &str,
) -> Result<InvitationState, diesel::result::Error> {
    let found = account_invitations::table
        .find(super::keys::hash_secret(token))
        .select((
            account_invitations::account_id,
            account_invitations::expires_at,
            account_invitations::used_at,
        ))
        .first::<(AccountId, NaiveDateTime, Option<NaiveDateTime>)>(conn)
        .optional()?;
    let Some((account_id, expires_at, used_at)) = found else {
        return Ok(InvitationState::Unknown);
    };
    if used_at.is_some() {
        return Ok(InvitationState::Gone(
            "this invitation was already used or replaced",
        ));
    }
    if expires_at <= now() {
        return Ok(InvitationState::Gone("this invitation has expired"));
    }
    match by_id_any_site(conn, account_id)? {
        Some(account) if account.disabled_at.is_none() => Ok(InvitationState::Valid(account)),
        _ => Ok(InvitationState::Gone("this account is disabled")),
    }
}

/// Where an invitation stands, without using it.
pub fn check_invitation(
    conn: &mut DbConnection,
    token: &str,
) -> Result<InvitationState, StoreError> {
    Ok(invitation_state(conn, token)?)
}

/// Sets the password of a valid invitation's account and uses the invitation up (atomically:
/// two tabs posting the same link set one password).
pub fn accept_invitation(
    conn: &mut DbConnection,
    token: &str,
    password_hash: &str,
) -> Result<InvitationState, StoreError> {
    Ok(write_tx::<_, diesel::result::Error, _>(conn, |conn| {
        let state = invitation_state(conn, token)?;
        if let InvitationState::Valid(account) = &state {
            let used = diesel::update(
                account_invitations::table
                    .find(super::keys::hash_secret(token))
                    .filter(account_invitations::used_at.is_null()),
            )
            .set(account_invitations::used_at.eq(Some(now())))
            .execute(conn)?;
            if used == 0 {
                return Ok(InvitationState::Gone(
                    "this invitation was already used or replaced",
                ));
            }
            diesel::update(accounts::table.find(account.id))
                .set(accounts::password_hash.eq(Some(password_hash)))
                .execute(conn)?;
        }
        Ok(state)
    })?)
}

/// A new invitation for an existing account (an admin's reset): earlier invitations stop
/// working, the password is cleared and every session of the account ends.
pub fn reset(
    conn: &mut DbConnection,
    account: &Account,
    lifetime: chrono::Duration,
) -> Result<Invitation, StoreError> {
    Ok(write_tx::<_, diesel::result::Error, _>(conn, |conn| {
        diesel::update(
            account_invitations::table
                .filter(account_invitations::account_id.eq(account.id))
                .filter(account_invitations::used_at.is_null()),
        )
        .set(account_invitations::used_at.eq(Some(now())))
        .execute(conn)?;
        diesel::update(accounts::table.find(account.id))
            .set((
                accounts::password_hash.eq(None::<String>),
                accounts::totp_secret_sealed.eq(None::<String>),
                accounts::totp_enabled_at.eq(None::<NaiveDateTime>),
                accounts::totp_last_step.eq(None::<i64>),
            ))
            .execute(conn)?;
        diesel::delete(
            account_recovery_codes::table.filter(account_recovery_codes::account_id.eq(account.id)),
        )
        .execute(conn)?;
        end_sessions(conn, account.key_id)?;
        insert_invitation(conn, account.id, lifetime)
    })?)
}

/// Ends every console session opened through key `key_id`; how many there were.
pub fn end_sessions(
    conn: &mut DbConnection,
    key_id: ApiKeyId,
) -> Result<usize, diesel::result::Error> {
    diesel::delete(console_sessions::table.filter(console_sessions::key_id.eq(key_id)))
        .execute(conn)
}

/// Changes an account's role (its principal key's).
pub fn set_role(conn: &mut DbConnection, account: &Account, role: Role) -> Result<(), StoreError> {
    diesel::update(api_keys::table.find(account.key_id))
        .set(api_keys::role.eq(role))
        .execute(conn)?;
    Ok(())
}

/// Disables an account (its sessions end at once: the principal key is revoked and the
/// sessions deleted) or enables it again.
pub fn set_disabled(
    conn: &mut DbConnection,
    account: &Account,
    disabled: bool,
) -> Result<(), StoreError> {
    write_tx::<_, diesel::result::Error, _>(conn, |conn| {
        let at = disabled.then(now);
        diesel::update(accounts::table.find(account.id))
            .set(accounts::disabled_at.eq(at))
            .execute(conn)?;
        diesel::update(api_keys::table.find(account.key_id))
            .set(api_keys::revoked_at.eq(at))
            .execute(conn)?;
        if disabled {
            end_sessions(conn, account.key_id)?;
        }
        Ok(())
    })?;
    Ok(())
}

/// Records a successful sign-in: its time, and the e-mail's failures are forgotten.
pub fn signed_in(
    conn: &mut DbConnection,
    account_id: AccountId,
    email_scope: &str,
) -> Result<(), StoreError> {
    diesel::update(accounts::table.find(account_id))
        .set(accounts::last_sign_in_at.eq(Some(now())))
        .execute(conn)?;
    diesel::delete(sign_in_failures::table.filter(sign_in_failures::scope.eq(email_scope)))
        .execute(conn)?;
    Ok(())
}

/// Failures of `scope` since `since`: how many, and the oldest's time.
pub fn failures_since(
    conn: &mut DbConnection,
    scope: &str,
    since: NaiveDateTime,
) -> Result<(i64, Option<NaiveDateTime>), StoreError> {
    let times: Vec<NaiveDateTime> = sign_in_failures::table
        .filter(sign_in_failures::scope.eq(scope))
        .filter(sign_in_failures::created_at.gt(since))
        .order(sign_in_failures::created_at)
        .select(sign_in_failures::created_at)
        .load(conn)?;
    Ok((times.len() as i64, times.first().copied()))
}

/// Records one failed sign-in under each scope; failures older than `forget_before` are swept.
pub fn record_failure(
    conn: &mut DbConnection,
    scopes: &[&str],
    forget_before: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::delete(sign_in_failures::table.filter(sign_in_failures::created_at.le(forget_before)))
        .execute(conn)?;
    let at = now();
    for scope in scopes {
        diesel::insert_into(sign_in_failures::table)
            .values((
                sign_in_failures::scope.eq(*scope),
                sign_in_failures::created_at.eq(at),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// One moderator's figures over a period.
#[derive(Debug, Clone, PartialEq)]
pub struct ModeratorFigures {
    pub key_id: ApiKeyId,
    pub name: String,
    pub decisions: i64,
    /// (day, decisions that day), oldest first; days without decisions left out.
    pub by_day: Vec<(chrono::NaiveDate, i64)>,
    /// Median seconds from a comment's arrival to this moderator's decision on it.
    pub median_seconds_to_decision: Option<i64>,
    /// Decisions appealed and reversed on appeal.
    pub overturned: i64,
}

/// Per moderator (key or account) of `site_id`: human decisions made since `since`, by day, the
/// median time from the comment's arrival to the decision, and how many were reversed on appeal.
/// Busiest first.
pub fn moderator_figures(
    conn: &mut DbConnection,
    site_id: SiteId,
    since: NaiveDateTime,
) -> Result<Vec<ModeratorFigures>, StoreError> {
    use super::schema::{appeals, comments, decisions};
    use std::collections::BTreeMap;
    type Row = (
        DecisionId,
        Option<ApiKeyId>,
        String,
        NaiveDateTime,
        NaiveDateTime,
        Option<String>,
    );
    let rows: Vec<Row> = decisions::table
        .inner_join(comments::table)
        .left_join(appeals::table.on(appeals::decision_id.eq(decisions::id)))
        .filter(decisions::site_id.eq(site_id))
        .filter(decisions::source.eq("human"))
        .filter(decisions::actor_key_id.is_not_null())
        .filter(decisions::created_at.ge(since))
        .order(decisions::id)
        .select((
            decisions::id,
            decisions::actor_key_id,
            decisions::actor,
            decisions::created_at,
            comments::created_at,
            appeals::status.nullable(),
        ))
        .load(conn)?;
    // A decision appears once per appeal (an author's and a reporter's): fold by decision.
    let mut per_decision: BTreeMap<DecisionId, (ApiKeyId, String, NaiveDateTime, i64, bool)> =
        BTreeMap::new();
    for (id, key_id, actor, decided_at, received_at, appeal) in rows {
        let Some(key_id) = key_id else { continue };
        let entry = per_decision.entry(id).or_insert_with(|| {
            let waited = (decided_at - received_at).num_seconds().max(0);
            (key_id, actor, decided_at, waited, false)
        });
        entry.4 |= appeal.as_deref() == Some("reversed");
    }
    let mut per_key: BTreeMap<ApiKeyId, ModeratorFigures> = BTreeMap::new();
    let mut waits: BTreeMap<ApiKeyId, Vec<i64>> = BTreeMap::new();
    for (key_id, actor, decided_at, waited, reversed) in per_decision.into_values() {
        let f = per_key.entry(key_id).or_insert_with(|| ModeratorFigures {
            key_id,
            name: String::new(),
            decisions: 0,
            by_day: Vec::new(),
            median_seconds_to_decision: None,
            overturned: 0,
        });
        // Decisions come in id order: the name is the latest one used.
        f.name = actor;
        f.decisions += 1;
        f.overturned += i64::from(reversed);
        let day = decided_at.date();
        match f.by_day.last_mut() {
            Some((d, n)) if *d == day => *n += 1,
            _ => f.by_day.push((day, 1)),
        }
        waits.entry(key_id).or_default().push(waited);
    }
    let mut out: Vec<ModeratorFigures> = per_key
        .into_values()
        .map(|mut f| {
            f.median_seconds_to_decision = waits
                .remove(&f.key_id)
                .and_then(crate::transparency::median);
            f
        })
        .collect();
    out.sort_by(|a, b| b.decisions.cmp(&a.decisions).then(a.key_id.cmp(&b.key_id)));
    Ok(out)
}

/// Starts (or restarts) enrolment in the second factor with a new sealed secret, not yet
/// required at sign-in.
pub fn start_totp(
    conn: &mut DbConnection,
    account_id: AccountId,
    sealed: &str,
) -> Result<(), StoreError> {
    diesel::update(accounts::table.find(account_id))
        .set((
            accounts::totp_secret_sealed.eq(Some(sealed)),
            accounts::totp_enabled_at.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(())
}

/// Turns the second factor on after its first code (time step `step`), with new recovery codes
/// (their keyed hashes) replacing any earlier ones.
pub fn enable_totp(
    conn: &mut DbConnection,
    account_id: AccountId,
    step: i64,
    code_hashes: &[String],
) -> Result<(), StoreError> {
    write_tx::<_, diesel::result::Error, _>(conn, |conn| {
        diesel::update(accounts::table.find(account_id))
            .set((
                accounts::totp_enabled_at.eq(Some(now())),
                accounts::totp_last_step.eq(Some(step)),
            ))
            .execute(conn)?;
        diesel::delete(
            account_recovery_codes::table.filter(account_recovery_codes::account_id.eq(account_id)),
        )
        .execute(conn)?;
        for hash in code_hashes {
            diesel::insert_into(account_recovery_codes::table)
                .values((
                    account_recovery_codes::account_id.eq(account_id),
                    account_recovery_codes::code_hash.eq(hash),
                ))
                .execute(conn)?;
        }
        Ok(())
    })?;
    Ok(())
}

/// Turns the second factor off (its owner, with password and code): secret, last step and
/// recovery codes are deleted.
pub fn disable_totp(conn: &mut DbConnection, account_id: AccountId) -> Result<(), StoreError> {
    write_tx::<_, diesel::result::Error, _>(conn, |conn| {
        diesel::update(accounts::table.find(account_id))
            .set((
                accounts::totp_secret_sealed.eq(None::<String>),
                accounts::totp_enabled_at.eq(None::<NaiveDateTime>),
                accounts::totp_last_step.eq(None::<i64>),
            ))
            .execute(conn)?;
        diesel::delete(
            account_recovery_codes::table.filter(account_recovery_codes::account_id.eq(account_id)),
        )
        .execute(conn)?;
        Ok(())
    })?;
    Ok(())
}

/// Takes time step `step` for the account's code: `false` when that step (or a later one) was
/// already used, so that a code works once.
pub fn use_totp_step(
    conn: &mut DbConnection,
    account_id: AccountId,
    step: i64,
) -> Result<bool, StoreError> {
    let taken = diesel::update(
        accounts::table.find(account_id).filter(
            accounts::totp_last_step
                .is_null()
                .or(accounts::totp_last_step.lt(step)),
        ),
    )
    .set(accounts::totp_last_step.eq(Some(step)))
    .execute(conn)?;
    Ok(taken == 1)
}

/// Uses up one unused recovery code of the account; `false` when there is no such code.
pub fn use_recovery_code(
    conn: &mut DbConnection,
    account_id: AccountId,
    code_hash: &str,
) -> Result<bool, StoreError> {
    let used = diesel::update(
        account_recovery_codes::table
            .filter(account_recovery_codes::account_id.eq(account_id))
            .filter(account_recovery_codes::code_hash.eq(code_hash))
            .filter(account_recovery_codes::used_at.is_null()),
    )
    .set(account_recovery_codes::used_at.eq(Some(now())))
    .execute(conn)?;
    Ok(used >= 1)
}
