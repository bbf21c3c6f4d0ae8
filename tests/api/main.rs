//! Black-box tests through HTTP, each on SQLite and (when configured) PostgreSQL.

mod helpers;

mod bad_input;
mod cli;
mod intake;
mod moderation;
mod operations;
mod reports;
mod scoring;
mod threads;
