//! CMS and payer reference files → `reference.prices` and `reference.edits`.
//!
//! `mrf/` hospital price-transparency files (v2.x and v3.0 CSV tall and wide, JSON) with the CMS
//! validator's checks; `tic.rs` Transparency-in-Coverage in-network and allowed-amount JSON;
//! `pfs.rs` Medicare PFS RVU + GPCI + conversion factor; `clfs.rs` clinical lab fee schedule;
//! `opps.rs` OPPS Addendum B; `ncci.rs` NCCI PTP and MUE; `hcpcs.rs` HCPCS Level II codes.
pub mod asp;
mod cells;
pub mod clfs;
pub mod hcpcs;
pub mod mrf;
pub mod ncci;
pub mod opps;
pub mod pfs;
pub mod tic;
