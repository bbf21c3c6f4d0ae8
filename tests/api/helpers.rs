//! The API tests' helpers: the shared test harness of `tests/common/` (kept under this name so
//! test files written against `crate::helpers::*` compile unchanged).

pub use crate::common::*;
