//! People rather than keys: named accounts invited by an admin, passwords set through a
//! one-time link, sign-in with e-mail and password for a console session (the same cookie and
//! CSRF token as the key sign-in of [`super::console`]), and the admins' management of accounts.
//!
//! - [`sessions`]: sign-in (rate limits, second factor), sign-out;
//! - [`invitations`]: the one-time link and setting a password through it;
//! - [`management`]: the admins' list, invitations, role changes and resets;
//! - [`moderators`]: per-moderator figures;
//! - [`second_factor`]: a person's own authenticator (TOTP) and recovery codes.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;
use crate::store::accounts::Account;

pub mod invitations;
pub mod management;
pub mod moderators;
pub mod second_factor;
pub mod sessions;

pub use crate::domain::accounts::EMAIL_PURPOSE;
pub use invitations::{accept_invitation, invitation_link, SetPassword};
pub use management::{
    create, list, reset, update, AccountList, AccountUpdate, InvitationResponse, NewAccountRequest,
};
pub use moderators::{figures, DayCount, FiguresQuery, ModeratorFigures, ModeratorFiguresPage};
pub use second_factor::{
    confirm_totp, disable_totp, start_totp, RecoveryCodes, TotpConfirmation, TotpDisable,
    TotpEnrolment,
};
pub use sessions::{
    sign_in, sign_out, sign_out_everywhere, SessionResponse, SessionsEnded, SignInRequest,
};

/// Sealing purpose of second-factor secrets, keyed-hash purpose of recovery codes.
const TOTP_PURPOSE: &str = "account-totp";
const RECOVERY_PURPOSE: &str = "account-recovery-code";

/// An account as admins see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountResponse {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub role: String,
    /// `invited` (no password yet), `active` or `disabled`.
    pub state: String,
    pub created_at: DateTime<Utc>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    /// Whether sign-in also asks for an authenticator code.
    pub second_factor: bool,
}

/// An account as admins see it, its e-mail unsealed.
fn account_response(state: &AppState, a: Account) -> AccountResponse {
    let email = state
        .open(EMAIL_PURPOSE, &a.email_sealed)
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_default();
    let status = a.state();
    AccountResponse {
        id: a.id.0,
        name: a.name,
        email,
        role: a.role.to_string(),
        state: status.into(),
        created_at: a.created_at.and_utc(),
        last_sign_in_at: a.last_sign_in_at.map(|t| t.and_utc()),
        second_factor: a.totp_enabled_at.is_some(),
    }
}
