//! Black-box tests through HTTP, each on SQLite and (when configured) PostgreSQL.

mod helpers;

mod bad_input;
mod cli;
mod contract;
mod intake;
mod integrations;
mod moderation;
mod operations;
mod privacy;
mod reports;
mod scoring;
mod threads;
mod webhooks;
