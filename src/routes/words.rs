//! A site's word lists (`[[words]]` of its TOML rule file) edited entry by entry for the
//! console: listed, added, changed, removed. Each change is checked as typed (422 naming the
//! field), then the whole file must still compile; it is saved as the site's next rule-set
//! version, keeping the file's comments and layout.

use actix_web::{delete, get, patch, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use toml_edit::{DocumentMut, Item, Table};
use utoipa::ToSchema;

use super::rules::MAX_RULES_CHARS;
use crate::auth::Caller;
use crate::domain::intake::ValidationError;
use crate::domain::{Role, SiteId};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::scoring::RuleSet;
use crate::state::AppState;
use crate::store;

/// Longest entry id.
pub const MAX_WORD_ID_CHARS: usize = 64;
/// Most terms in one entry.
pub const MAX_TERMS: usize = 500;
/// Longest term (a word or a phrase).
pub const MAX_TERM_CHARS: usize = 100;

const ACTIONS: [&str; 3] = ["flag", "hold", "block"];
const CATEGORIES: [&str; 3] = ["toxicity", "spam", "behaviour"];

/// One `[[words]]` entry.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WordEntry {
    /// Letters, digits, `-` and `_`, 1 to 64 characters; unique in the file.
    #[schema(min_length = 1, max_length = 64, pattern = r"^[A-Za-z0-9_-]+$")]
    pub id: String,
    /// `flag` (evidence only), `hold` (review) or `block` (reject).
    #[schema(pattern = r"^(flag|hold|block)$")]
    pub action: String,
    /// `toxicity` (default), `spam` or `behaviour`.
    #[serde(default)]
    #[schema(pattern = r"^(toxicity|spam|behaviour)$")]
    pub category: Option<String>,
    /// A two- or three-letter language code; absent: every language.
    #[serde(default)]
    #[schema(pattern = r"^[a-z]{2,3}$")]
    pub lang: Option<String>,
    /// 1 to 500 words or phrases, each 1 to 100 characters (matched on whole normalised tokens).
    #[schema(min_items = 1, max_items = 500)]
    pub terms: Vec<String>,
}

/// A change to an entry: only the fields given change (`lang: null` means every language).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WordEntryChange {
    #[serde(default)]
    #[schema(pattern = r"^(flag|hold|block)$")]
    pub action: Option<String>,
    #[serde(default)]
    #[schema(pattern = r"^(toxicity|spam|behaviour)$")]
    pub category: Option<String>,
    #[serde(default, deserialize_with = "super::threads::double_option")]
    #[schema(value_type = Option<String>, pattern = r"^[a-z]{2,3}$")]
    pub lang: Option<Option<String>>,
    #[serde(default)]
    #[schema(min_items = 1, max_items = 500)]
    pub terms: Option<Vec<String>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WordList {
    /// The rule-set version these entries come from (`null`: the default rules).
    pub version: Option<i32>,
    pub items: Vec<WordEntry>,
}

fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    ValidationError::new(field, message).into()
}

fn check_action(action: &str) -> Result<(), ApiError> {
    if ACTIONS.contains(&action) {
        Ok(())
    } else {
        Err(invalid("action", "must be `flag`, `hold` or `block`"))
    }
}

fn check_category(category: &str) -> Result<(), ApiError> {
    if CATEGORIES.contains(&category) {
        Ok(())
    } else {
        Err(invalid(
            "category",
            "must be `toxicity`, `spam` or `behaviour`",
        ))
    }
}

fn check_lang(lang: &str) -> Result<(), ApiError> {
    if (2..=3).contains(&lang.len()) && lang.bytes().all(|b| b.is_ascii_lowercase()) {
        Ok(())
    } else {
        Err(invalid(
            "lang",
            "must be a two- or three-letter language code",
        ))
    }
}

/// Terms trimmed, checked and deduplicated (in order).
fn clean_terms(terms: Vec<String>) -> Result<Vec<String>, ApiError> {
    if terms.is_empty() || terms.len() > MAX_TERMS {
        return Err(invalid(
            "terms",
            format!("must hold 1 to {MAX_TERMS} terms"),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(terms.len());
    for (i, t) in terms.into_iter().enumerate() {
        let t = t.trim().to_owned();
        if t.is_empty() || t.chars().count() > MAX_TERM_CHARS || t.chars().any(char::is_control) {
            return Err(invalid(
                &format!("terms[{i}]"),
                format!("must be 1 to {MAX_TERM_CHARS} characters of text"),
            ));
        }
        if !out.contains(&t) {
            out.push(t);
        }
    }
    Ok(out)
}

impl WordEntry {
    pub(crate) fn validated(mut self) -> Result<WordEntry, ApiError> {
        let id_ok = !self.id.is_empty()
            && self.id.chars().count() <= MAX_WORD_ID_CHARS
            && self
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !id_ok {
            return Err(invalid(
                "id",
                format!("must be 1 to {MAX_WORD_ID_CHARS} letters, digits, `-` or `_`"),
            ));
        }
        check_action(&self.action)?;
        if let Some(c) = &self.category {
            check_category(c)?;
        }
        if let Some(l) = &self.lang {
            check_lang(l)?;
        }
        self.terms = clean_terms(self.terms)?;
        Ok(self)
    }
}

/// The `[[words]]` entries of a rule file.
pub fn entries(doc: &DocumentMut) -> Vec<WordEntry> {
    let Some(words) = doc.get("words").and_then(Item::as_array_of_tables) else {
        return Vec::new();
    };
    let text = |t: &Table, k: &str| t.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    words
        .iter()
        .map(|t| WordEntry {
            id: text(t, "id").unwrap_or_default(),
            action: text(t, "action").unwrap_or_default(),
            category: text(t, "category"),
            lang: text(t, "lang"),
            terms: t
                .get("terms")
                .and_then(|v| v.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect()
}

fn terms_value(terms: &[String]) -> Item {
    toml_edit::value(
        terms
            .iter()
            .map(String::as_str)
            .collect::<toml_edit::Array>(),
    )
}

/// What to do to the word lists.
pub enum Edit {
    Add(WordEntry),
    Change(String, WordEntryChange),
    Remove(String),
}

impl Edit {
    /// The edit in words, for the settings log.
    fn in_words(&self) -> String {
        match self {
            Edit::Add(e) => format!(
                "word list `{}` added: {}, {}, {} terms",
                e.id,
                e.action,
                e.lang.as_deref().unwrap_or("all languages"),
                e.terms.len()
            ),
            Edit::Change(id, c) => {
                let mut parts = Vec::new();
                if let Some(a) = &c.action {
                    parts.push(format!("action {a}"));
                }
                if let Some(cat) = &c.category {
                    parts.push(format!("category {cat}"));
                }
                if let Some(lang) = &c.lang {
                    parts.push(format!(
                        "language {}",
                        lang.as_deref().unwrap_or("all languages")
                    ));
                }
                if let Some(t) = &c.terms {
                    parts.push(format!("{} terms", t.len()));
                }
                format!("word list `{id}` changed: {}", parts.join(", "))
            }
            Edit::Remove(id) => format!("word list `{id}` removed"),
        }
    }
}

/// Applies `edit` to the rule file `source`: the new file, or why not (404 for an unknown
/// entry, 409 for an id taken, 422 for a value or a file that no longer compiles).
pub fn apply(source: &str, edit: Edit) -> Result<String, ApiError> {
    let mut doc: DocumentMut = source.parse().map_err(|e| {
        invalid(
            "source",
            format!("the stored rule file does not parse: {e}"),
        )
    })?;
    let words = doc
        .entry("words")
        .or_insert(Item::ArrayOfTables(Default::default()))
        .as_array_of_tables_mut()
        .ok_or_else(|| invalid("source", "`words` is not a list of tables"))?;
    let position = |words: &toml_edit::ArrayOfTables, id: &str| {
        words
            .iter()
            .position(|t| t.get("id").and_then(|v| v.as_str()) == Some(id))
    };
    match edit {
        Edit::Add(entry) => {
            if position(words, &entry.id).is_some() {
                return Err(ApiError::Conflict(format!(
                    "a word list `{}` exists already",
                    entry.id
                )));
            }
            let mut t = Table::new();
            t["id"] = toml_edit::value(entry.id);
            if let Some(lang) = entry.lang {
                t["lang"] = toml_edit::value(lang);
            }
            t["action"] = toml_edit::value(entry.action);
            t["category"] = toml_edit::value(entry.category.unwrap_or_else(|| "toxicity".into()));
            t["terms"] = terms_value(&entry.terms);
            words.push(t);
        }
        Edit::Change(id, change) => {
            let i = position(words, &id)
                .ok_or_else(|| ApiError::NotFound(format!("word list `{id}`")))?;
            let t = words
                .get_mut(i)
                .ok_or_else(|| ApiError::NotFound(format!("word list `{id}`")))?;
            if let Some(action) = change.action {
                check_action(&action)?;
                t["action"] = toml_edit::value(action);
            }
            if let Some(category) = change.category {
                check_category(&category)?;
                t["category"] = toml_edit::value(category);
            }
            match change.lang {
                Some(Some(lang)) => {
                    check_lang(&lang)?;
                    t["lang"] = toml_edit::value(lang);
                }
                Some(None) => {
                    t.remove("lang");
                }
                None => {}
            }
            if let Some(terms) = change.terms {
                t["terms"] = terms_value(&clean_terms(terms)?);
            }
        }
        Edit::Remove(id) => {
            let i = position(words, &id)
                .ok_or_else(|| ApiError::NotFound(format!("word list `{id}`")))?;
            words.remove(i);
        }
    }
    let out = doc.to_string();
    if out.chars().count() > MAX_RULES_CHARS {
        return Err(invalid(
            "terms",
            format!("the rule file would pass {MAX_RULES_CHARS} characters"),
        ));
    }
    RuleSet::from_toml(&out, "source")
        .map_err(|e| invalid("terms", format!("line {}: {}", e.line, e.reason)))?;
    Ok(out)
}

/// The site's rule file in force: its version (`None`: the defaults) and source.
async fn current(state: &AppState, site: SiteId) -> Result<(Option<i32>, String), ApiError> {
    let stored = store::run(&state.pool, move |conn| store::rules::latest(conn, site)).await?;
    Ok(match stored {
        Some(s) => (Some(s.version), s.source),
        None => (None, state.judge.default_rules().source().to_owned()),
    })
}

/// A word-list edit to try without saving it (`POST /v1/backtests`'s `words`): one of `add`, or
/// `change` with `set`, as `POST /v1/site/rules/words` and `PATCH /v1/site/rules/words/{id}`
/// take them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriedEdit {
    /// A word list to add.
    #[serde(default)]
    pub add: Option<WordEntry>,
    /// The id of a word list to change…
    #[serde(default)]
    #[schema(min_length = 1, max_length = 64)]
    pub change: Option<String>,
    /// …and what changes.
    #[serde(default)]
    pub set: Option<WordEntryChange>,
}

/// The site's rule file as `edit` would leave it, checked as a saved edit is (the same 404,
/// 409 and 422); nothing is saved.
pub async fn tried_rules(
    state: &AppState,
    site: SiteId,
    edit: TriedEdit,
) -> Result<String, ApiError> {
    let edit = match edit {
        TriedEdit {
            add: Some(entry),
            change: None,
            set: None,
        } => Edit::Add(entry.validated()?),
        TriedEdit {
            add: None,
            change: Some(id),
            set: Some(change),
        } => Edit::Change(id, change),
        _ => return Err(invalid("words", "give `add`, or `change` with `set`")),
    };
    let (_, source) = current(state, site).await?;
    apply(&source, edit)
}

/// Applies `edit` to the site's rule file and saves the result as its next version.
async fn edit_words(
    caller: &Caller,
    state: &AppState,
    edit: Edit,
) -> Result<Vec<WordEntry>, ApiError> {
    caller.require(&[Role::Admin])?;
    let site = caller.site_id;
    let (_, source) = current(state, site).await?;
    let what = edit.in_words();
    let updated = apply(&source, edit)?;
    let by = caller.name.clone();
    let actor = caller.actor();
    let doc: DocumentMut = updated
        .parse()
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("rewritten rules do not parse: {e}")))?;
    let (version, _) = store::run(&state.pool, move |conn| {
        // the change and its entry in the settings log, together
        store::write_tx(conn, |conn| {
            let (version, at) = store::rules::save(conn, site, &updated, &by)?;
            let summary = format!("{what} (rule file version {version})");
            store::changes::record(conn, site, &actor, "words", &summary)?;
            Ok::<_, store::StoreError>((version, at))
        })
    })
    .await?;
    state.judge.forget_rules(site);
    tracing::info!(version, "word lists changed");
    Ok(entries(&doc))
}

fn entry_named(list: Vec<WordEntry>, id: &str) -> Result<WordEntry, ApiError> {
    list.into_iter()
        .find(|e| e.id == id)
        .ok_or_else(|| ApiError::NotFound(format!("word list `{id}`")))
}

/// The site's word lists (admin).
#[utoipa::path(get, path = "/v1/site/rules/words", tag = "site", security(("bearer" = ["admin"])),
    responses((status = 200, body = WordList)))]
#[get("/v1/site/rules/words")]
pub async fn list_words(
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let (version, source) = current(&state, caller.site_id).await?;
    let doc: DocumentMut = source
        .parse()
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("stored rules do not parse: {e}")))?;
    Ok(HttpResponse::Ok().json(WordList {
        version,
        items: entries(&doc),
    }))
}

/// Add a word list (admin); saved as the site's next rule-set version.
#[utoipa::path(post, path = "/v1/site/rules/words", tag = "site", security(("bearer" = ["admin"])),
    request_body = WordEntry,
    responses((status = 201, body = WordEntry),
        (status = 409, description = "the id is taken", body = crate::error::Problem, content_type = "application/problem+json")))]
#[post("/v1/site/rules/words")]
#[tracing::instrument(name = "add_words", skip_all, fields(key_id = caller.key_id.0))]
pub async fn add_words(
    caller: Caller,
    state: web::Data<AppState>,
    ApiJson(entry): ApiJson<WordEntry>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let entry = entry.validated()?;
    let id = entry.id.clone();
    let list = edit_words(&caller, &state, Edit::Add(entry)).await?;
    Ok(HttpResponse::Created().json(entry_named(list, &id)?))
}

/// Change a word list's action, category, language or terms (admin).
#[utoipa::path(patch, path = "/v1/site/rules/words/{id}", tag = "site", security(("bearer" = ["admin"])),
    params(("id" = String, Path, min_length = 1, description = "the entry's id")),
    request_body = WordEntryChange,
    responses((status = 200, body = WordEntry),
        (status = 404, description = "no such entry", body = crate::error::Problem, content_type = "application/problem+json")))]
#[patch("/v1/site/rules/words/{id}")]
#[tracing::instrument(name = "change_words", skip_all, fields(key_id = caller.key_id.0))]
pub async fn change_words(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<String>,
    ApiJson(change): ApiJson<WordEntryChange>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let id = id.into_inner();
    let list = edit_words(&caller, &state, Edit::Change(id.clone(), change)).await?;
    Ok(HttpResponse::Ok().json(entry_named(list, &id)?))
}

/// Remove a word list (admin).
#[utoipa::path(delete, path = "/v1/site/rules/words/{id}", tag = "site", security(("bearer" = ["admin"])),
    params(("id" = String, Path, min_length = 1, description = "the entry's id")),
    responses((status = 204, description = "removed"),
        (status = 404, description = "no such entry", body = crate::error::Problem, content_type = "application/problem+json")))]
#[delete("/v1/site/rules/words/{id}")]
#[tracing::instrument(name = "remove_words", skip_all, fields(key_id = caller.key_id.0))]
pub async fn remove_words(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    edit_words(&caller, &state, Edit::Remove(id.into_inner())).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "# Our words\nname = \"site\"\n\n# French insults\n[[words]]\nid = \"fr-a\"\nlang = \"fr\"\naction = \"hold\"\ncategory = \"toxicity\"\nterms = [\"crétin\", \"abruti\"]\n";

    fn entry(id: &str) -> WordEntry {
        WordEntry {
            id: id.into(),
            action: "block".into(),
            category: None,
            lang: Some("en".into()),
            terms: vec!["moron".into()],
        }
    }

    #[test]
    fn edits_keep_the_comments_and_compile() {
        let added = apply(FILE, Edit::Add(entry("en-a"))).unwrap();
        assert!(added.starts_with("# Our words\n") && added.contains("# French insults"));
        let doc: DocumentMut = added.parse().unwrap();
        assert_eq!(entries(&doc).len(), 2);
        let change = WordEntryChange {
            action: Some("flag".into()),
            category: None,
            lang: Some(None),
            terms: Some(vec![" idiot ".into(), "idiot".into()]),
        };
        let changed = apply(&added, Edit::Change("fr-a".into(), change)).unwrap();
        let doc: DocumentMut = changed.parse().unwrap();
        let first = &entries(&doc)[0];
        assert_eq!(first.action, "flag");
        assert_eq!(first.lang, None);
        assert_eq!(first.terms, vec!["idiot".to_owned()]);
        let removed = apply(&changed, Edit::Remove("en-a".into())).unwrap();
        assert_eq!(entries(&removed.parse().unwrap()).len(), 1);
        assert!(RuleSet::from_toml(&removed, "t").is_ok());
    }

    #[test]
    fn unknown_taken_and_invalid_entries_are_refused() {
        assert!(matches!(
            apply(FILE, Edit::Remove("nope".into())),
            Err(ApiError::NotFound(_))
        ));
        assert!(matches!(
            apply(FILE, Edit::Add(entry("fr-a"))),
            Err(ApiError::Conflict(_))
        ));
        let field = |r: Result<_, ApiError>| match r {
            Err(ApiError::Validation(v)) => v.field,
            other => panic!("{:?}", other.map(|_: WordEntry| ())),
        };
        let mut e = entry("x y");
        assert_eq!(field(e.clone().validated()), "id");
        e.id = "ok".into();
        e.action = "ban".into();
        assert_eq!(field(e.clone().validated()), "action");
        e.action = "hold".into();
        e.lang = Some("fra!".into());
        assert_eq!(field(e.clone().validated()), "lang");
        e.lang = None;
        e.terms = vec!["a".into(), " ".into()];
        assert_eq!(field(e.clone().validated()), "terms[1]");
        e.terms = vec![];
        assert_eq!(field(e.validated()), "terms");
    }
}
