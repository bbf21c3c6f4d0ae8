//! The intake service: how a comment (or an edited text) is scored with its site's rules and
//! thresholds and stored with its automated decision. Called by `POST /v1/comments`,
//! `PUT /v1/comments/{id}`, the Coral Talk phase (`routes/coral.rs`) and `benches/intake.rs`.
//!
//! Each runs in two halves: a reading half on the pool (site, rules, author history, verdict;
//! nothing written) and a writing half through the SQLite group-commit writer, or in a
//! transaction of its own on PostgreSQL, answered once durable. Where the comment lands is
//! decided by [`crate::domain::policy`].

use crate::domain::intake::{CommentEdit, CommentSubmission};
use crate::domain::policy::Scored;
use crate::domain::{CommentId, SiteId};
use crate::judge::Judge;
use crate::state::AppState;
use crate::store::comments::{self as store_comments, Intake, IntakeContext, IntakeError};
use crate::store::edits::{Edit, EditContext, EditError};
use crate::store::records::SiteRecord;
use crate::store::{self, DbConnection, StoreError};

/// What a new comment comes to: created or found again, or refused (thread closed, parent
/// unknown); the outer error is the database's.
pub type IntakeOutcome = Result<Result<Intake, IntakeError>, StoreError>;

/// Scores a validated comment with its site's rules and thresholds and stores it with its
/// first decision, in one transaction.
pub async fn take_in(
    state: &AppState,
    site_id: SiteId,
    submission: CommentSubmission,
) -> IntakeOutcome {
    let (ctx, submission) = score_for_intake(state, site_id, submission).await?;
    store_intake(state, ctx, submission).await
}

/// The reading half of intake: the site, its rules and thresholds, the author's history, the
/// verdict. Nothing is written.
pub async fn score_for_intake(
    state: &AppState,
    site_id: SiteId,
    submission: CommentSubmission,
) -> Result<(IntakeContext, CommentSubmission), StoreError> {
    let body_hash = store_comments::body_hash(&submission.body);
    let email_hash = submission
        .author_email
        .as_deref()
        .map(|e| state.keyed_hash("email", e));
    let ip_hash = submission.client_ip.and_then(|ip| state.ip_token(ip));
    let judge = state.judge.clone();
    let repeat_window = repeat_window(state);
    store::run(&state.pool, move |conn| {
        let site = site(conn, site_id)?;
        let text = Text {
            body: &submission.body,
            lang: submission.lang.as_deref(),
            body_hash: &body_hash,
            author_external_id: &submission.author_id,
        };
        let (scored, rules, shadow, history) = score(conn, &judge, &site, &text, repeat_window)?;
        let new_author = site
            .new_author_premod
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| history.approved_count < *n);
        let ctx = IntakeContext {
            shadow,
            new_author,
            site_id,
            site_mode: site.moderation_mode,
            email_hash,
            ip_hash,
            body_hash: Some(body_hash),
            verdict: Some(scored),
            author_rate: rules.author_rate().cloned(),
        };
        Ok((ctx, submission))
    })
    .await
}

/// The writing half of intake: the comment and its first decision.
pub async fn store_intake(
    state: &AppState,
    ctx: IntakeContext,
    submission: CommentSubmission,
) -> IntakeOutcome {
    write(state, move |conn| {
        store_comments::submit(conn, &ctx, &submission)
    })
    .await
}

/// Replaces comment `id`'s text (of the caller's site) with an edit, scored as a new comment
/// would be; `None` when the site holds no such comment.
pub async fn edit(
    state: &AppState,
    site_id: SiteId,
    id: CommentId,
    edit: CommentEdit,
) -> Result<Option<Result<Edit, EditError>>, StoreError> {
    let judge = state.judge.clone();
    let repeat_window = repeat_window(state);
    let scored = store::run(&state.pool, move |conn| {
        let Some(current) = store_comments::view(conn, id)? else {
            return Ok(None);
        };
        if current.comment.site_id != site_id {
            return Ok(None);
        }
        let site = site(conn, site_id)?;
        let body_hash = store_comments::body_hash(&edit.body);
        let text = Text {
            body: &edit.body,
            lang: edit.lang.as_deref().or(current.comment.lang.as_deref()),
            body_hash: &body_hash,
            author_external_id: &current.author_external_id,
        };
        let (scored, _, _, _) = score(conn, &judge, &site, &text, repeat_window)?;
        let ctx = EditContext {
            site_id,
            comment_id: id,
            site_mode: site.moderation_mode,
            body_hash,
            scored,
        };
        Ok(Some((ctx, edit)))
    })
    .await?;
    let Some((ctx, edit)) = scored else {
        return Ok(None);
    };
    write(state, move |conn| store::edits::edit(conn, &ctx, &edit))
        .await
        .map(Some)
}

/// The text being scored and whose it is.
struct Text<'a> {
    body: &'a str,
    lang: Option<&'a str>,
    body_hash: &'a str,
    author_external_id: &'a str,
}

/// What scoring a text gives: the verdict, the rules (for what applies when the comment is
/// written), the shadow model's verdict when the site has one, and the author's history.
type ScoreOutcome = (
    Scored,
    std::sync::Arc<crate::scoring::RuleSet>,
    Option<store::models::ShadowVerdict>,
    crate::scoring::AuthorHistory,
);

/// The verdict of the site's active model on `text` under the site's rules and thresholds (its
/// own, or the model's), with its author's history; and, when the site has a shadow model, that
/// model's verdict under the same rules (computed here, before the write, so the writer's
/// critical section only stores it).
fn score(
    conn: &mut DbConnection,
    judge: &Judge,
    site: &SiteRecord,
    text: &Text<'_>,
    repeat_window: chrono::Duration,
) -> Result<ScoreOutcome, StoreError> {
    let (_, rules) = judge.rules_for(conn, site.id)?;
    let models = judge.models_for(conn, site.id)?;
    let thresholds = judge.thresholds_from(site.thresholds.as_deref(), &models.active);
    let history = store_comments::author_history(
        conn,
        site.id,
        text.author_external_id,
        text.body_hash,
        repeat_window,
    )?;
    let verdict_of = |model: &crate::scoring::Scorer, thresholds: &crate::scoring::Thresholds| {
        judge.verdict_by(
            model,
            text.body,
            text.lang,
            history,
            &rules,
            thresholds,
            site.unscored_language,
        )
    };
    let verdict = verdict_of(&models.active, &thresholds);
    let shadow = models.shadow.map(|(model_id, model)| {
        let v = verdict_of(
            &model,
            &judge.thresholds_from(site.thresholds.as_deref(), &model),
        );
        store::models::ShadowVerdict {
            model_id,
            toxicity: f64::from(v.scores.toxicity),
            spam: f64::from(v.scores.spam),
            decision: v.decision.as_str().to_owned(),
            active_version: verdict.model_version.clone(),
            active_decision: verdict.decision.as_str().to_owned(),
            reasons: serde_json::to_string(&v.reasons).unwrap_or_else(|_| "[]".into()),
        }
    });
    Ok((Scored::new(verdict, &thresholds), rules, shadow, history))
}

fn site(conn: &mut DbConnection, site_id: SiteId) -> Result<SiteRecord, StoreError> {
    store::sites::by_id(conn, site_id)?
        .ok_or_else(|| StoreError::Other(anyhow::anyhow!("key without site")))
}

fn repeat_window(state: &AppState) -> chrono::Duration {
    chrono::Duration::seconds(state.settings.repeat_window_secs.max(0))
}

/// Runs a write through the group-commit writer on SQLite, in a transaction of its own on
/// PostgreSQL.
async fn write<T, E, F>(state: &AppState, f: F) -> Result<Result<T, E>, StoreError>
where
    T: Send + 'static,
    E: Send + 'static,
    F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
{
    match &state.writer {
        Some(writer) => writer.write(f).await,
        None => store::run(&state.pool, move |conn| Ok(f(conn))).await,
    }
}
