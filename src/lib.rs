//! Vigie: a self-hosted comment moderation service.

pub mod auth;
pub mod background;
pub mod backtest;
pub mod config;
pub mod domain;
pub mod error;
pub mod extract;
pub mod intake;
pub mod judge;
pub mod mail;
pub mod metrics;
pub mod model_archive;
pub mod openapi;
pub mod routes;
pub mod scoring;
pub mod secrets;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod training;
pub mod transparency;
pub mod webhooks;
