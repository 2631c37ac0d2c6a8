//! Per-cycle scratch space: what a plugin computed in its pre-filter or
//! pre-score step for the pod being scheduled, read back per node.

use std::any::Any;
use std::collections::HashMap;

#[derive(Default)]
pub struct CycleState {
    data: HashMap<&'static str, Box<dyn Any + Send + Sync>>,
}

impl CycleState {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn write<T: Any + Send + Sync>(&mut self, key: &'static str, value: T) {
        self.data.insert(key, Box::new(value));
    }
    pub fn read<T: Any + Send + Sync>(&self, key: &'static str) -> Option<&T> {
        self.data.get(key).and_then(|b| b.downcast_ref::<T>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_round_trip() {
        let mut s = CycleState::new();
        s.write("a", 5usize);
        assert_eq!(s.read::<usize>("a"), Some(&5));
        assert_eq!(s.read::<String>("a"), None);
        assert_eq!(s.read::<usize>("b"), None);
    }
}
