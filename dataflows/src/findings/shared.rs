//! `Shared<T>`: a reference record (an edit, a benchmark) held once per process however many
//! bill lines matched it. A join hands a document's reduce one pointer per match instead of a
//! copy of the record; a record that crosses workers is interned again when it arrives, so the
//! copies collapse back into one. Entries no one holds any more are purged as the table grows.
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::HashSet;
use std::hash::Hash;
use std::sync::{Arc, Mutex, OnceLock};

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Shared<T>(pub Arc<T>);

impl<T> std::ops::Deref for Shared<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// The intern table of one record type.
pub struct Table<T> {
    set: HashSet<Arc<T>>,
    /// Size after the last purge: the next purge runs when the table has doubled.
    purged_at: usize,
}

pub trait Intern: Sized + Eq + Hash + 'static {
    fn table() -> &'static Mutex<Table<Self>>;
}

fn new_table<T>() -> Mutex<Table<T>> {
    Mutex::new(Table { set: HashSet::new(), purged_at: 1024 })
}

impl Intern for schemas::RefEdit {
    fn table() -> &'static Mutex<Table<Self>> {
        static T: OnceLock<Mutex<Table<schemas::RefEdit>>> = OnceLock::new();
        T.get_or_init(new_table)
    }
}

impl Intern for schemas::Benchmark {
    fn table() -> &'static Mutex<Table<Self>> {
        static T: OnceLock<Mutex<Table<schemas::Benchmark>>> = OnceLock::new();
        T.get_or_init(new_table)
    }
}

impl<T: Intern> Shared<T> {
    pub fn new(value: T) -> Self {
        let Ok(mut t) = T::table().lock() else {
            // A panicked holder poisoned the table: share nothing rather than fail.
            return Shared(Arc::new(value));
        };
        if let Some(a) = t.set.get(&value) {
            return Shared(a.clone());
        }
        if t.set.len() >= 2 * t.purged_at {
            // Versions no arrangement holds any more (superseded benchmarks): only the table
            // points at them.
            t.set.retain(|a| Arc::strong_count(a) > 1);
            t.purged_at = t.set.len().max(1024);
        }
        let a = Arc::new(value);
        t.set.insert(a.clone());
        Shared(a)
    }
}

impl<T: Serialize> Serialize for Shared<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de, T: Intern + Deserialize<'de>> Deserialize<'de> for Shared<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(Shared::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_records_share_one_allocation_even_through_serde() {
        let e = schemas::RefEdit {
            kind: "mue".into(),
            code: "36415".into(),
            code2: None,
            modifier_indicator: None,
            mue_limit: Some(2),
            mue_adjudication: Some("3".into()),
            description: None,
            effective_from: "2026-01-01".into(),
            effective_to: None,
            source_file: "mue.csv".into(),
        };
        let a = Shared::new(e.clone());
        let b = Shared::new(e.clone());
        assert!(Arc::ptr_eq(&a.0, &b.0));
        let c: Shared<schemas::RefEdit> = serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
        assert!(Arc::ptr_eq(&a.0, &c.0), "a record arriving from another worker is the same allocation");
        let other = Shared::new(schemas::RefEdit { mue_limit: Some(3), ..e });
        assert!(!Arc::ptr_eq(&a.0, &other.0));
        assert_eq!(a.cmp(&other), a.0.mue_limit.cmp(&other.0.mue_limit), "ordered by value");
    }
}
