//! Hand-kept diesel schema shared by both backends (see migrations/sqlite and
//! migrations/postgresql, which must stay in step with it).

diesel::table! {
    instance_settings (name) {
        name -> Text,
        value -> Text,
    }
}

diesel::table! {
    sites (id) {
        id -> BigInt,
        slug -> Text,
        moderation_mode -> Text,
        created_at -> Timestamp,
        report_hide_threshold -> Double,
        thresholds -> Nullable<Text>,
        coral_secrets -> Nullable<Text>,
        territorial_scope -> Nullable<Text>,
        unscored_language -> Text,
        thresholds_model -> Nullable<Text>,
        new_author_premod -> Nullable<Integer>,
        appeal_text -> Nullable<Text>,
    }
}

diesel::table! {
    console_preferences (key_id) {
        key_id -> BigInt,
        language -> Text,
    }
}

diesel::table! {
    rule_sets (id) {
        id -> BigInt,
        site_id -> BigInt,
        version -> Integer,
        source -> Text,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    api_keys (id) {
        id -> BigInt,
        site_id -> BigInt,
        role -> Text,
        name -> Text,
        prefix -> Text,
        secret_hash -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    threads (id) {
        id -> BigInt,
        site_id -> BigInt,
        external_id -> Text,
        url -> Nullable<Text>,
        title -> Nullable<Text>,
        status -> Text,
        moderation_mode -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    authors (id) {
        id -> BigInt,
        site_id -> BigInt,
        external_id -> Text,
        display_name -> Nullable<Text>,
        email_hash -> Nullable<Text>,
        status -> Text,
        status_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    comments (id) {
        id -> BigInt,
        site_id -> BigInt,
        thread_id -> BigInt,
        parent_id -> Nullable<BigInt>,
        author_id -> BigInt,
        external_id -> Text,
        body -> Text,
        lang -> Nullable<Text>,
        status -> Text,
        revision -> Integer,
        verdict -> Nullable<Text>,
        verdict_decision -> Nullable<Text>,
        client_ip_hash -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        risk -> Double,
        score_toxicity -> Nullable<Double>,
        score_spam -> Nullable<Double>,
        escalated -> Bool,
        claimed_by -> Nullable<BigInt>,
        claim_expires_at -> Nullable<Timestamp>,
        first_seen_at -> Nullable<Timestamp>,
        first_seen_by -> Nullable<BigInt>,
        open_reports -> Integer,
        report_weight -> Double,
        first_reported_at -> Nullable<Timestamp>,
        body_hash -> Nullable<Text>,
        report_priority -> Integer,
        edited_at -> Nullable<Timestamp>,
        body_received_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    comment_revisions (id) {
        id -> BigInt,
        comment_id -> BigInt,
        site_id -> BigInt,
        revision -> Integer,
        body -> Text,
        lang -> Nullable<Text>,
        verdict -> Nullable<Text>,
        verdict_decision -> Nullable<Text>,
        status -> Text,
        edited_at -> Nullable<Timestamp>,
        received_at -> Timestamp,
        replaced_at -> Timestamp,
    }
}

diesel::table! {
    reporters (id) {
        id -> BigInt,
        site_id -> BigInt,
        identity_hash -> Text,
        upheld -> Integer,
        dismissed -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    reports (id) {
        id -> BigInt,
        site_id -> BigInt,
        comment_id -> BigInt,
        reporter_id -> BigInt,
        reference -> Text,
        category -> Text,
        source -> Text,
        text -> Nullable<Text>,
        reporter_name -> Nullable<Text>,
        reporter_email_hash -> Nullable<Text>,
        ip_hash -> Nullable<Text>,
        legal_ground -> Nullable<Text>,
        explanation -> Nullable<Text>,
        good_faith -> Bool,
        snapshot_body -> Text,
        snapshot_revision -> Integer,
        weight -> Double,
        brigading -> Bool,
        status -> Text,
        outcome_at -> Nullable<Timestamp>,
        decision_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        network_hash -> Nullable<Text>,
        site_bucket -> Bool,
    }
}

diesel::table! {
    statements (id) {
        id -> BigInt,
        uuid -> Text,
        site_id -> BigInt,
        comment_id -> Nullable<BigInt>,
        author_id -> Nullable<BigInt>,
        decision_id -> Nullable<BigInt>,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    appeals (id) {
        id -> BigInt,
        site_id -> BigInt,
        comment_id -> BigInt,
        decision_id -> BigInt,
        appellant -> Text,
        report_id -> Nullable<BigInt>,
        text -> Text,
        status -> Text,
        reply -> Nullable<Text>,
        decided_by -> Nullable<BigInt>,
        decided_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    comment_reasons (comment_id, reason) {
        comment_id -> BigInt,
        reason -> Text,
    }
}

diesel::table! {
    author_actions (id) {
        id -> BigInt,
        author_id -> BigInt,
        site_id -> BigInt,
        actor -> Text,
        actor_key_id -> Nullable<BigInt>,
        from_status -> Text,
        to_status -> Text,
        until -> Nullable<Timestamp>,
        reason -> Text,
        note -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    decisions (id) {
        id -> BigInt,
        comment_id -> BigInt,
        site_id -> BigInt,
        actor -> Text,
        actor_key_id -> Nullable<BigInt>,
        source -> Text,
        from_status -> Nullable<Text>,
        to_status -> Text,
        reason -> Nullable<Text>,
        note -> Nullable<Text>,
        created_at -> Timestamp,
        verdict -> Nullable<Text>,
        action -> Nullable<Text>,
        note_to_author -> Nullable<Text>,
        origin -> Nullable<Text>,
        origin_network -> Nullable<Text>,
    }
}

diesel::table! {
    console_sessions (token_hash) {
        token_hash -> Text,
        key_id -> BigInt,
        csrf_token -> Text,
        language -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        last_seen_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    accounts (id) {
        id -> BigInt,
        key_id -> BigInt,
        email_hash -> Text,
        email_sealed -> Text,
        password_hash -> Nullable<Text>,
        disabled_at -> Nullable<Timestamp>,
        last_sign_in_at -> Nullable<Timestamp>,
        totp_secret_sealed -> Nullable<Text>,
        totp_enabled_at -> Nullable<Timestamp>,
        totp_last_step -> Nullable<BigInt>,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    account_invitations (token_hash) {
        token_hash -> Text,
        account_id -> BigInt,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    account_recovery_codes (id) {
        id -> BigInt,
        account_id -> BigInt,
        code_hash -> Text,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sign_in_failures (id) {
        id -> BigInt,
        scope -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> BigInt,
        site_id -> BigInt,
        url -> Text,
        description -> Nullable<Text>,
        events -> Text,
        secret_sealed -> Text,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> BigInt,
        endpoint_id -> BigInt,
        site_id -> BigInt,
        event_id -> Text,
        event_type -> Text,
        subject -> Text,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        retry_until -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        last_status_code -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhook_attempts (id) {
        id -> BigInt,
        delivery_id -> BigInt,
        endpoint_id -> BigInt,
        attempt -> Integer,
        status_code -> Nullable<Integer>,
        error -> Nullable<Text>,
        duration_ms -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    perspective_feedback (id) {
        id -> BigInt,
        site_id -> BigInt,
        client_token -> Nullable<Text>,
        attribute -> Text,
        score -> Double,
        label -> Integer,
        text -> Text,
        text_hash -> Text,
        lang -> Nullable<Text>,
        community_id -> Nullable<Text>,
        coral_comment_id -> Nullable<Text>,
        coral_parent_id -> Nullable<Text>,
        story_url -> Nullable<Text>,
        key_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    backtests (id) {
        id -> BigInt,
        site_id -> BigInt,
        params -> Text,
        status -> Text,
        progress_done -> BigInt,
        progress_total -> BigInt,
        result -> Nullable<Text>,
        error -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
        started_at -> Nullable<Timestamp>,
        finished_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    author_notes (id) {
        id -> BigInt,
        site_id -> BigInt,
        author_id -> BigInt,
        text -> Text,
        created_by -> Text,
        created_by_key_id -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));
diesel::joinable!(webhook_attempts -> webhook_deliveries (delivery_id));
diesel::joinable!(api_keys -> sites (site_id));
diesel::joinable!(threads -> sites (site_id));
diesel::joinable!(authors -> sites (site_id));
diesel::joinable!(comments -> threads (thread_id));
diesel::joinable!(comments -> authors (author_id));
diesel::joinable!(decisions -> comments (comment_id));
diesel::joinable!(comment_reasons -> comments (comment_id));
diesel::joinable!(comment_revisions -> comments (comment_id));
diesel::joinable!(author_actions -> authors (author_id));
diesel::joinable!(reports -> comments (comment_id));
diesel::joinable!(reports -> reporters (reporter_id));
diesel::joinable!(appeals -> comments (comment_id));
diesel::joinable!(console_sessions -> api_keys (key_id));
diesel::joinable!(accounts -> api_keys (key_id));
diesel::joinable!(account_invitations -> accounts (account_id));
diesel::joinable!(account_recovery_codes -> accounts (account_id));
diesel::joinable!(perspective_feedback -> sites (site_id));
diesel::joinable!(alert_preferences -> accounts (account_id));
diesel::joinable!(mail_outbox -> accounts (account_id));

diesel::table! {
    alert_preferences (account_id) {
        account_id -> BigInt,
        language -> Text,
        on_report -> Bool,
        queue_wait_minutes -> Nullable<Integer>,
        digest_hour -> Nullable<Integer>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    mail_outbox (id) {
        id -> BigInt,
        site_id -> BigInt,
        account_id -> BigInt,
        kind -> Text,
        subject -> Text,
        payload -> Text,
        dedup_key -> Nullable<Text>,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        retry_until -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}
diesel::joinable!(author_notes -> authors (author_id));

diesel::allow_tables_to_appear_in_same_query!(
    instance_settings,
    sites,
    api_keys,
    threads,
    authors,
    comments,
    decisions,
    comment_reasons,
    comment_revisions,
    author_actions,
    reporters,
    reports,
    statements,
    appeals,
    rule_sets,
    console_sessions,
    webhook_endpoints,
    webhook_deliveries,
    webhook_attempts,
    accounts,
    account_invitations,
    account_recovery_codes,
    sign_in_failures,
    perspective_feedback,
    alert_preferences,
    mail_outbox,
    backtests,
    author_notes,
);

// The model registry (store/models.rs).
diesel::table! {
    models (id) {
        id -> BigInt,
        site_id -> BigInt,
        version -> Text,
        path -> Text,
        sha256 -> Text,
        weights_sha256 -> Text,
        status -> Text,
        replaced_id -> Nullable<BigInt>,
        registered_by -> Text,
        registered_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    model_events (id) {
        id -> BigInt,
        site_id -> BigInt,
        action -> Text,
        actor -> Text,
        from_version -> Nullable<Text>,
        to_version -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    shadow_scores (model_id, comment_id) {
        comment_id -> BigInt,
        model_id -> BigInt,
        toxicity -> Double,
        spam -> Double,
        decision -> Text,
        active_version -> Text,
        active_decision -> Text,
        reasons -> Text,
        created_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(shadow_scores, comments);
diesel::allow_tables_to_appear_in_same_query!(shadow_scores, decisions);
diesel::allow_tables_to_appear_in_same_query!(shadow_scores, models);

// The site's settings log (store/changes.rs).
diesel::table! {
    setting_changes (id) {
        id -> BigInt,
        site_id -> BigInt,
        actor -> Text,
        actor_key_id -> Nullable<BigInt>,
        origin -> Nullable<Text>,
        origin_network -> Nullable<Text>,
        setting -> Text,
        summary -> Text,
        created_at -> Timestamp,
    }
}
