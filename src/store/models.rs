//! The model registry: model directories registered for a site, which one is active (scores
//! and decides) and which one runs in shadow (scores beside it, never decides), the log of
//! changes to them, and the shadow verdicts kept per comment.
//!
//! At most one active and one shadow model per site (a partial unique index enforces it); a
//! site without an active model scores with the shipped default. Activating a model records
//! the model it replaced (`replaced_id`), so a rollback returns to it, or to the default.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{comments, decisions, model_events, models, shadow_scores};
use super::{lock_keys, now, write_tx, DbConnection, StoreError};
use crate::domain::{CommentId, DecisionSource, ModelId, SiteId};

pub use crate::domain::ModelStatus;

/// One registered model.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = models)]
pub struct ModelRecord {
    pub id: ModelId,
    pub site_id: SiteId,
    pub version: String,
    /// Absolute path of the model directory.
    pub path: String,
    /// SHA-256 of `model.json`.
    pub sha256: String,
    /// SHA-256 of the weights, as `model.json` records it (and as checked).
    pub weights_sha256: String,
    status: ModelStatus,
    /// The model that was active when this one was activated (`None`: the shipped default).
    pub replaced_id: Option<ModelId>,
    pub registered_by: String,
    pub registered_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl ModelRecord {
    pub fn status(&self) -> ModelStatus {
        self.status
    }

    /// The key a loaded model is cached under: a version with these exact files.
    pub fn cache_key(&self) -> String {
        format!("{}@{}", self.version, self.sha256)
    }
}

/// A model directory that passed its integrity check, to register.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = models)]
pub struct NewModel {
    pub site_id: SiteId,
    pub version: String,
    pub path: String,
    pub sha256: String,
    pub weights_sha256: String,
    pub status: ModelStatus,
    pub registered_by: String,
    pub registered_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// One change to a site's models.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = model_events)]
pub struct ModelEvent {
    pub id: i64,
    pub site_id: SiteId,
    /// `register`, `shadow`, `activate` or `rollback`.
    pub action: String,
    pub actor: String,
    /// Before and after: the active version (for `shadow`, the shadow version); `None` is the
    /// shipped default (or no shadow).
    pub from_version: Option<String>,
    pub to_version: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = model_events)]
struct NewEvent<'a> {
    site_id: SiteId,
    action: &'a str,
    actor: &'a str,
    from_version: Option<&'a str>,
    to_version: Option<&'a str>,
    created_at: NaiveDateTime,
}

/// Why a change was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No model of this version on the site.
    NotFound,
    /// The change does not apply to the model as it stands (the reason).
    Conflict(String),
}

/// Change outcome: the model changed, or why not.
pub type Change = Result<ModelRecord, Refusal>;

/// Registers a checked model directory for its site; `Conflict` when the site already has
/// this version.
pub fn register(conn: &mut DbConnection, new: &NewModel) -> Result<Change, StoreError> {
    write_tx(conn, |conn| {
        let inserted = diesel::insert_into(models::table)
            .values(new)
            .returning(models::all_columns)
            .get_result::<ModelRecord>(conn);
        let record = match inserted {
            Ok(r) => r,
            Err(e) if super::is_unique_violation(&e) => {
                return Ok(Err(Refusal::Conflict(format!(
                    "version {} is already registered for this site",
                    new.version
                ))))
            }
            Err(e) => return Err(e.into()),
        };
        event(
            conn,
            new.site_id,
            "register",
            &new.registered_by,
            None,
            Some(&new.version),
        )?;
        Ok(Ok(record))
    })
}

/// The site's models, newest first.
pub fn list(conn: &mut DbConnection, site_id: SiteId) -> Result<Vec<ModelRecord>, StoreError> {
    Ok(models::table
        .filter(models::site_id.eq(site_id))
        .select(ModelRecord::as_select())
        .order(models::id.desc())
        .load(conn)?)
}

/// The site's last `limit` model changes, newest first.
pub fn events(
    conn: &mut DbConnection,
    site_id: SiteId,
    limit: i64,
) -> Result<Vec<ModelEvent>, StoreError> {
    Ok(model_events::table
        .filter(model_events::site_id.eq(site_id))
        .select(ModelEvent::as_select())
        .order(model_events::id.desc())
        .limit(limit)
        .load(conn)?)
}

/// The site's model of this version.
pub fn by_version(
    conn: &mut DbConnection,
    site_id: SiteId,
    version: &str,
) -> Result<Option<ModelRecord>, StoreError> {
    Ok(models::table
        .filter(models::site_id.eq(site_id))
        .filter(models::version.eq(version))
        .select(ModelRecord::as_select())
        .first(conn)
        .optional()?)
}

/// The site's active and shadow models (one indexed query; the judge asks every few seconds).
pub fn in_use(
    conn: &mut DbConnection,
    site_id: SiteId,
) -> Result<(Option<ModelRecord>, Option<ModelRecord>), StoreError> {
    let rows: Vec<ModelRecord> = super::on_backend!(conn, |c| models::table
        .filter(models::site_id.eq(site_id))
        .filter(models::status.eq_any([ModelStatus::Active, ModelStatus::Shadow]))
        .select(ModelRecord::as_select())
        .load(c))?;
    let mut active = None;
    let mut shadow = None;
    for r in rows {
        match r.status() {
            ModelStatus::Active => active = Some(r),
            _ => shadow = Some(r),
        }
    }
    Ok((active, shadow))
}

/// Puts `version` in shadow (the previous shadow, if any, goes back to `registered`).
pub fn shadow(
    conn: &mut DbConnection,
    site_id: SiteId,
    version: &str,
    actor: &str,
) -> Result<Change, StoreError> {
    change(conn, site_id, version, |conn, model, (_, current)| {
        match model.status() {
            ModelStatus::Active => {
                return Ok(Err(Refusal::Conflict(format!(
                    "{} is the active model; a shadow model runs beside it",
                    model.version
                ))))
            }
            ModelStatus::Shadow => {
                return Ok(Err(Refusal::Conflict(format!(
                    "{} is already in shadow",
                    model.version
                ))))
            }
            _ => {}
        }
        if let Some(old) = &current {
            set_status(conn, old.id, ModelStatus::Registered, None)?;
        }
        set_status(conn, model.id, ModelStatus::Shadow, None)?;
        let from = current.as_ref().map(|m| m.version.as_str());
        event(conn, site_id, "shadow", actor, from, Some(&model.version))?;
        Ok(Ok(()))
    })
}

/// Makes `version` the site's active model; the model it replaces is retired and remembered
/// for a rollback.
pub fn activate(
    conn: &mut DbConnection,
    site_id: SiteId,
    version: &str,
    actor: &str,
) -> Result<Change, StoreError> {
    change(conn, site_id, version, |conn, model, (current, _)| {
        if model.status() == ModelStatus::Active {
            return Ok(Err(Refusal::Conflict(format!(
                "{} is already the active model",
                model.version
            ))));
        }
        if let Some(old) = &current {
            set_status(conn, old.id, ModelStatus::Retired, None)?;
        }
        let replaced = current.as_ref().map(|m| m.id);
        set_status(conn, model.id, ModelStatus::Active, Some(replaced))?;
        let from = current.as_ref().map(|m| m.version.as_str());
        event(conn, site_id, "activate", actor, from, Some(&model.version))?;
        Ok(Ok(()))
    })
}

/// Retires the active model `version` and reactivates the model it replaced, or returns the
/// site to the shipped default.
pub fn rollback(
    conn: &mut DbConnection,
    site_id: SiteId,
    version: &str,
    actor: &str,
) -> Result<Change, StoreError> {
    change(conn, site_id, version, |conn, model, _| {
        if model.status() != ModelStatus::Active {
            return Ok(Err(Refusal::Conflict(format!(
                "{} is not the active model; only the active model can be rolled back",
                model.version
            ))));
        }
        set_status(conn, model.id, ModelStatus::Retired, None)?;
        let previous = match model.replaced_id {
            Some(id) => models::table
                .find(id)
                .select(ModelRecord::as_select())
                .first(conn)
                .optional()?,
            None => None,
        };
        if let Some(p) = &previous {
            // keeps its own `replaced_id`: a second rollback goes one step further back
            set_status(conn, p.id, ModelStatus::Active, None)?;
        }
        let to = previous.as_ref().map(|m| m.version.as_str());
        event(conn, site_id, "rollback", actor, Some(&model.version), to)?;
        Ok(Ok(()))
    })
}

type InUse = (Option<ModelRecord>, Option<ModelRecord>);

/// Runs a status change on `version` in a write transaction, serialised per site, and reads
/// the model back.
fn change(
    conn: &mut DbConnection,
    site_id: SiteId,
    version: &str,
    f: impl FnOnce(&mut DbConnection, &ModelRecord, InUse) -> Result<Result<(), Refusal>, StoreError>,
) -> Result<Change, StoreError> {
    write_tx(conn, |conn| {
        lock_keys(conn, &[format!("models:{site_id}")])?;
        let Some(model) = by_version(conn, site_id, version)? else {
            return Ok(Err(Refusal::NotFound));
        };
        let (active, shadow) = in_use(conn, site_id)?;
        let others = (
            active.filter(|m| m.id != model.id),
            shadow.filter(|m| m.id != model.id),
        );
        if let Err(refusal) = f(conn, &model, others)? {
            return Ok(Err(refusal));
        }
        Ok(Ok(models::table
            .find(model.id)
            .select(ModelRecord::as_select())
            .first(conn)?))
    })
}

/// Sets a model's status (and, with `Some`, the model it replaced).
fn set_status(
    conn: &mut DbConnection,
    id: ModelId,
    status: ModelStatus,
    replaced: Option<Option<ModelId>>,
) -> Result<(), StoreError> {
    let target = models::table.find(id);
    match replaced {
        Some(r) => diesel::update(target)
            .set((
                models::status.eq(status),
                models::replaced_id.eq(r),
                models::updated_at.eq(now()),
            ))
            .execute(conn)?,
        None => diesel::update(target)
            .set((models::status.eq(status), models::updated_at.eq(now())))
            .execute(conn)?,
    };
    Ok(())
}

fn event(
    conn: &mut DbConnection,
    site_id: SiteId,
    action: &str,
    actor: &str,
    from_version: Option<&str>,
    to_version: Option<&str>,
) -> Result<(), StoreError> {
    diesel::insert_into(model_events::table)
        .values(NewEvent {
            site_id,
            action,
            actor,
            from_version,
            to_version,
            created_at: now(),
        })
        .execute(conn)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Shadow verdicts

/// What the shadow model said of a comment, stored with the comment.
#[derive(Debug, Clone, PartialEq, Insertable, Queryable, Selectable)]
#[diesel(table_name = shadow_scores)]
pub struct ShadowScore {
    pub comment_id: CommentId,
    pub model_id: ModelId,
    pub toxicity: f64,
    pub spam: f64,
    /// `allow`, `review` or `reject`.
    pub decision: String,
    pub active_version: String,
    pub active_decision: String,
    /// The shadow verdict's reasons, a JSON array of strings.
    pub reasons: String,
    pub created_at: NaiveDateTime,
}

/// A shadow verdict computed before the comment is written (intake's reading half).
#[derive(Debug, Clone, PartialEq)]
pub struct ShadowVerdict {
    pub model_id: ModelId,
    pub toxicity: f64,
    pub spam: f64,
    pub decision: String,
    pub active_version: String,
    pub active_decision: String,
    /// JSON array of the shadow verdict's reasons.
    pub reasons: String,
}

/// Stores the shadow verdict of a comment just inserted (in the intake's transaction).
pub fn record_shadow(
    conn: &mut DbConnection,
    comment_id: CommentId,
    shadow: &ShadowVerdict,
    at: NaiveDateTime,
) -> Result<(), diesel::result::Error> {
    let row = ShadowScore {
        comment_id,
        model_id: shadow.model_id,
        toxicity: shadow.toxicity,
        spam: shadow.spam,
        decision: shadow.decision.clone(),
        active_version: shadow.active_version.clone(),
        active_decision: shadow.active_decision.clone(),
        reasons: shadow.reasons.clone(),
        created_at: at,
    };
    super::on_backend!(conn, |c| diesel::insert_into(shadow_scores::table)
        .values(&row)
        .execute(c))?;
    Ok(())
}

/// The shadow verdicts of comments `ids` with their model's version (an author's export).
pub fn shadow_of_comments(
    conn: &mut DbConnection,
    ids: &[CommentId],
) -> Result<Vec<(ShadowScore, String)>, diesel::result::Error> {
    shadow_scores::table
        .inner_join(models::table.on(models::id.eq(shadow_scores::model_id)))
        .filter(shadow_scores::comment_id.eq_any(ids))
        .order((shadow_scores::comment_id, shadow_scores::model_id))
        .select((ShadowScore::as_select(), models::version))
        .load(conn)
}

/// Deletes the shadow verdicts of comments `ids` (their reasons quote the text); how many.
pub fn erase_shadow(
    conn: &mut DbConnection,
    ids: &[CommentId],
) -> Result<usize, diesel::result::Error> {
    diesel::delete(shadow_scores::table.filter(shadow_scores::comment_id.eq_any(ids))).execute(conn)
}

/// A shadow verdict with the active verdict stored on the comment (JSON) and its human label.
#[derive(Debug, Clone)]
pub struct ShadowRow {
    pub score: ShadowScore,
    pub active_verdict: Option<String>,
    /// 1 rejected, 0 approved or restored: the comment's last human label, if any.
    pub label: Option<i32>,
}

/// Most shadow verdicts a report reads (the newest).
pub const MAX_SHADOW_ROWS: i64 = 100_000;

/// The shadow verdicts of model `model_id`, newest first, with the human labels given since.
pub fn shadow_rows(
    conn: &mut DbConnection,
    model_id: ModelId,
) -> Result<Vec<ShadowRow>, StoreError> {
    let rows: Vec<(ShadowScore, Option<String>)> = shadow_scores::table
        .inner_join(comments::table.on(comments::id.eq(shadow_scores::comment_id)))
        .filter(shadow_scores::model_id.eq(model_id))
        .select((ShadowScore::as_select(), comments::verdict))
        .order(shadow_scores::comment_id.desc())
        .limit(MAX_SHADOW_ROWS)
        .load(conn)?;
    // Labels as `store::datasets` defines them: a comment's last human approve, reject or
    // restore.
    let decided: Vec<(CommentId, Option<String>)> = decisions::table
        .inner_join(
            shadow_scores::table.on(shadow_scores::comment_id
                .eq(decisions::comment_id)
                .and(shadow_scores::model_id.eq(model_id))),
        )
        .filter(decisions::source.eq(DecisionSource::Human.as_str()))
        .filter(decisions::action.eq_any(super::datasets::LABEL_ACTIONS))
        .select((decisions::comment_id, decisions::action))
        .order(decisions::id)
        .load(conn)?;
    let labels: HashMap<CommentId, i32> = decided
        .into_iter()
        .map(|(id, action)| (id, i32::from(action.as_deref() == Some("reject"))))
        .collect();
    Ok(rows
        .into_iter()
        .map(|(score, active_verdict)| ShadowRow {
            label: labels.get(&score.comment_id).copied(),
            score,
            active_verdict,
        })
        .collect())
}

/// A labelled comment as scored at intake.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledScore {
    pub toxicity: f64,
    pub spam: f64,
    /// 1 rejected, 0 approved or restored.
    pub label: i32,
    /// The rejection's reason code.
    pub reason: Option<String>,
    /// The version of the model that scored it (from the stored verdict).
    pub model_version: Option<String>,
}

/// Most labelled comments a threshold suggestion reads (the most recently decided).
pub const MAX_LABELLED_SCORES: i64 = 200_000;

/// The site's labelled comments (last human label per comment) with the scores stored when
/// they were taken in; comments edited after their label are left out (the label was given to
/// another text), as in `store::datasets`.
pub fn labelled_scores(
    conn: &mut DbConnection,
    site_id: SiteId,
) -> Result<Vec<LabelledScore>, StoreError> {
    type Row = (
        CommentId,
        Option<String>,
        Option<String>,
        Option<f64>,
        Option<f64>,
        Option<String>,
    );
    let rows: Vec<Row> = decisions::table
        .inner_join(comments::table.on(comments::id.eq(decisions::comment_id)))
        .filter(decisions::site_id.eq(site_id))
        .filter(decisions::source.eq(DecisionSource::Human.as_str()))
        .filter(decisions::action.eq_any(super::datasets::LABEL_ACTIONS))
        .filter(comments::score_toxicity.is_not_null())
        .filter(
            comments::body_received_at
                .is_null()
                .or(comments::body_received_at.le(decisions::created_at.nullable())),
        )
        .select((
            decisions::comment_id,
            decisions::action,
            decisions::reason,
            comments::score_toxicity,
            comments::score_spam,
            comments::verdict,
        ))
        .order(decisions::id.desc())
        .limit(MAX_LABELLED_SCORES)
        .load(conn)?;
    let mut seen = std::collections::HashSet::new();
    Ok(rows
        .into_iter()
        // newest first: the first row of a comment is its last label
        .filter(|r| seen.insert(r.0))
        .map(|(_, action, reason, toxicity, spam, verdict)| {
            let model_version = verdict
                .as_deref()
                .and_then(|v| serde_json::from_str::<serde_json::Value>(v).ok())
                .and_then(|v| v.get("model_version")?.as_str().map(str::to_owned));
            LabelledScore {
                toxicity: toxicity.unwrap_or(0.0),
                spam: spam.unwrap_or(0.0),
                label: i32::from(action.as_deref() == Some("reject")),
                reason,
                model_version,
            }
        })
        .collect())
}
