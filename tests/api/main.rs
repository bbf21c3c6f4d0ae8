//! Black-box tests through HTTP, each on SQLite and (when configured) PostgreSQL.

#[path = "../common/mod.rs"]
mod common;
mod helpers;

mod accounts;
mod alerts;
mod backtests;
mod bad_input;
mod cli;
mod console_tools;
mod contract;
mod datasets;
mod dsa;
mod edits;
mod intake;
mod integrations;
mod migrations;
mod models;
mod moderation;
mod operations;
mod perspective;
mod privacy;
mod reports;
mod scoring;
mod site_models;
mod slow_clients;
mod threads;
mod transparency;
mod webhooks;
