//! DSA Art. 15 transparency figures, computed from the records of a period.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::{AppealStatus, ReportStatus};
use crate::store::statistics::PeriodRecords;

#[derive(Debug, Serialize, ToSchema)]
pub struct Transparency {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub notices: Notices,
    pub actions: Actions,
    pub appeals: Appeals,
    /// The shipped classifier's measured precision/recall at its thresholds (model card);
    /// `null` when no model is loaded.
    #[schema(value_type = Option<Object>)]
    pub classifier: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Notices {
    pub total: usize,
    pub by_category: BTreeMap<String, usize>,
    /// `reader`, `trusted_flagger`, `authority`.
    pub by_source: BTreeMap<String, usize>,
    pub upheld: usize,
    pub dismissed: usize,
    pub open: usize,
    /// Median time from a notice to the decision on it.
    pub median_seconds_to_action: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Actions {
    /// Restrictions (each with a statement of reasons).
    pub total: usize,
    /// `illegal` or `house_rules`.
    pub by_ground: BTreeMap<String, usize>,
    /// `removed`, `hidden`, `account_suspended`, `account_premoderated`.
    pub by_type: BTreeMap<String, usize>,
    pub by_category: BTreeMap<String, usize>,
    pub automated_detection: usize,
    pub automated_decision: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Appeals {
    pub received: usize,
    pub decided: usize,
    pub reversed: usize,
    pub median_seconds_to_decision: Option<i64>,
}

/// The median (the mean of the middle two for an even count).
pub(crate) fn median(mut v: Vec<i64>) -> Option<i64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2
    })
}

/// The figures of a period from its records; `classifier` is the model card's summary.
pub fn compute(
    r: &PeriodRecords,
    from: NaiveDateTime,
    to: NaiveDateTime,
    classifier: Option<serde_json::Value>,
) -> Transparency {
    Transparency {
        from: from.and_utc(),
        to: to.and_utc(),
        notices: notices(r),
        actions: actions(r),
        appeals: appeals(r),
        classifier,
    }
}

/// Notices (abuse reports) received, by category and source, and what became of them.
fn notices(r: &PeriodRecords) -> Notices {
    let mut by_category = BTreeMap::new();
    let mut by_source = BTreeMap::new();
    let (mut upheld, mut dismissed, mut open) = (0, 0, 0);
    let mut to_action = Vec::new();
    for n in &r.reports {
        *by_category.entry(n.category.clone()).or_insert(0) += 1;
        *by_source.entry(n.source.clone()).or_insert(0) += 1;
        match n.status {
            ReportStatus::Upheld => upheld += 1,
            ReportStatus::Dismissed => dismissed += 1,
            ReportStatus::Open => open += 1,
        }
        if let Some(at) = n.outcome_at {
            to_action.push((at - n.created_at).num_seconds());
        }
    }
    Notices {
        total: r.reports.len(),
        by_category,
        by_source,
        upheld,
        dismissed,
        open,
        median_seconds_to_action: median(to_action),
    }
}

/// Actions taken, from the statements of reasons of the period.
fn actions(r: &PeriodRecords) -> Actions {
    let mut actions = Actions {
        total: 0,
        by_ground: BTreeMap::new(),
        by_type: BTreeMap::new(),
        by_category: BTreeMap::new(),
        automated_detection: 0,
        automated_decision: 0,
    };
    for s in &r.statements {
        let Ok(body) = serde_json::from_str::<serde_json::Value>(&s.body) else {
            continue;
        };
        actions.total += 1;
        let ground = if body["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT" {
            "illegal"
        } else {
            "house_rules"
        };
        *actions.by_ground.entry(ground.into()).or_insert(0) += 1;
        let kind = if body["decision_account"] == "DECISION_ACCOUNT_SUSPENDED" {
            "account_suspended"
        } else if body["decision_provision"].is_string() {
            "account_premoderated"
        } else if body["decision_visibility"][0] == "DECISION_VISIBILITY_CONTENT_DISABLED" {
            "hidden"
        } else {
            "removed"
        };
        *actions.by_type.entry(kind.into()).or_insert(0) += 1;
        if let Some(code) = body["reason_code"].as_str() {
            *actions.by_category.entry(code.into()).or_insert(0) += 1;
        }
        if body["automated_detection"] == "Yes" {
            actions.automated_detection += 1;
        }
        if body["automated_decision"] == "AUTOMATED_DECISION_FULLY" {
            actions.automated_decision += 1;
        }
    }
    actions
}

/// Appeals received and decided, reversals, and the median time to a decision.
fn appeals(r: &PeriodRecords) -> Appeals {
    let decided: Vec<_> = r
        .appeals
        .iter()
        .filter(|a| a.decided_at.is_some())
        .collect();
    Appeals {
        received: r.appeals.len(),
        decided: decided.len(),
        reversed: decided
            .iter()
            .filter(|a| a.status == AppealStatus::Reversed)
            .count(),
        median_seconds_to_decision: median(
            decided
                .iter()
                .filter_map(|a| a.decided_at.map(|d| (d - a.created_at).num_seconds()))
                .collect(),
        ),
    }
}

impl Transparency {
    /// `section,key,value` rows.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("section,key,value\n");
        let mut row = |section: &str, key: &str, value: String| {
            out.push_str(&format!("{section},{key},{value}\n"));
        };
        row("period", "from", self.from.to_rfc3339());
        row("period", "to", self.to.to_rfc3339());
        row("notices", "total", self.notices.total.to_string());
        for (k, v) in &self.notices.by_category {
            row("notices_by_category", k, v.to_string());
        }
        for (k, v) in &self.notices.by_source {
            row("notices_by_source", k, v.to_string());
        }
        row("notices", "upheld", self.notices.upheld.to_string());
        row("notices", "dismissed", self.notices.dismissed.to_string());
        row("notices", "open", self.notices.open.to_string());
        row(
            "notices",
            "median_seconds_to_action",
            self.notices
                .median_seconds_to_action
                .map(|v| v.to_string())
                .unwrap_or_default(),
        );
        row("actions", "total", self.actions.total.to_string());
        for (k, v) in &self.actions.by_ground {
            row("actions_by_ground", k, v.to_string());
        }
        for (k, v) in &self.actions.by_type {
            row("actions_by_type", k, v.to_string());
        }
        for (k, v) in &self.actions.by_category {
            row("actions_by_category", k, v.to_string());
        }
        row(
            "actions",
            "automated_detection",
            self.actions.automated_detection.to_string(),
        );
        row(
            "actions",
            "automated_decision",
            self.actions.automated_decision.to_string(),
        );
        row("appeals", "received", self.appeals.received.to_string());
        row("appeals", "decided", self.appeals.decided.to_string());
        row("appeals", "reversed", self.appeals.reversed.to_string());
        row(
            "appeals",
            "median_seconds_to_decision",
            self.appeals
                .median_seconds_to_decision
                .map(|v| v.to_string())
                .unwrap_or_default(),
        );
        if let Some(c) = &self.classifier {
            if let Some(obj) = c.as_object() {
                for (k, v) in obj {
                    row("classifier", k, v.to_string().replace(',', ";"));
                }
            }
        }
        out
    }
}
